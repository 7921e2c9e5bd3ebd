"""Which access keys the gateway used, counted in memory and written in bulk off the request path.

A request only notes its key here (a dictionary update on the event loop); every few seconds, and
once more at shutdown, the counts and last-used times gathered since the last write go to
:func:`accessgrants.decisions.record_use` in one UPDATE, so a burst of requests costs the database
nothing per request, and several processes add their counts without losing any.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from django.utils import timezone

from accessgrants.decisions import record_use

log = logging.getLogger("spaceport.gateway")

RunOnDatabase = Callable[..., Awaitable[Any]]


class KeyUsage:
    """Requests and the last-used time per access key since the last write."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}
        self.last_used: dict[str, datetime] = {}
        self.writes = 0
        self._task: asyncio.Task[None] | None = None

    def note(self, access_key_id: str) -> None:
        self.counts[access_key_id] = self.counts.get(access_key_id, 0) + 1
        self.last_used[access_key_id] = timezone.now()

    async def write(self, on_database: RunOnDatabase) -> None:
        """Write what was gathered; on failure keep it for the next write rather than lose it."""
        if not self.counts:
            return
        counts, last_used = self.counts, self.last_used
        self.counts, self.last_used = {}, {}
        try:
            await on_database(record_use, last_used, counts)
            self.writes += 1
        except Exception:
            log.exception("recording the use of %d access keys failed; kept for the next try", len(counts))
            for key, count in counts.items():
                self.counts[key] = self.counts.get(key, 0) + count
                self.last_used[key] = max(last_used[key], self.last_used.get(key, last_used[key]))

    def start(self, on_database: RunOnDatabase, every: float) -> None:
        async def keep_writing() -> None:
            while True:
                await asyncio.sleep(every)
                await self.write(on_database)

        self._task = asyncio.get_running_loop().create_task(keep_writing())

    async def stop(self, on_database: RunOnDatabase) -> None:
        """Stop the periodic writes and write what is left."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self.write(on_database)
