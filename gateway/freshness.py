"""The access snapshot version, polled once for the whole gateway process.

Everything a request looks up (keys, grants, policies, spaces, connections) is kept per access
snapshot version (:mod:`portal.core.snapshots`). Reading the version from Redis for every request
would be a round trip each; the gateway instead reads it every :data:`POLL_SECONDS` in the
background and pins it, so a revoked grant, a deactivated key or a changed connection is felt within
that interval, well inside the five seconds promised, on every gateway process. When Redis cannot be
read, nothing stays pinned: requests read the version themselves, and fail as loudly as Redis does,
rather than go on with a version that may be old.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from concurrent.futures import ThreadPoolExecutor

from portal.core import snapshots

log = logging.getLogger("spaceport.gateway")

POLL_SECONDS = 0.5


class VersionPoller:
    """Pins the access snapshot version for this process, and keeps it current."""

    def __init__(self, interval: float = POLL_SECONDS) -> None:
        self.interval = interval
        self.task: asyncio.Task[None] | None = None
        self.last_read: str | None = None
        # One thread of its own, reused: Django's cache handle (and its Redis connection) belongs to
        # the thread and context that made it, so ``asyncio.to_thread`` would connect anew each time.
        self.reader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gateway-version")

    async def start(self) -> None:
        await self.poll()
        self.task = asyncio.create_task(self._keep_polling())

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
        snapshots.pin_version(None)
        self.reader.shutdown(wait=False)

    async def poll(self) -> None:
        """Read the version and pin it when it moved; unpin when it cannot be read.

        A read that finds what the last one found changes nothing: the process may have pinned a
        newer version of its own making since (:func:`portal.core.snapshots.changed`).
        """
        try:
            read = await asyncio.get_running_loop().run_in_executor(self.reader, snapshots.stored_version)
        except Exception as failed:  # whatever Redis raises, the pin must go
            if snapshots.pinned_version() is not None:
                log.warning("the access snapshot version cannot be read, so it is read per request: %s", failed)
            snapshots.pin_version(None)
            self.last_read = None
            return
        if read != self.last_read or snapshots.pinned_version() is None:
            snapshots.pin_version(read)
        self.last_read = read

    async def _keep_polling(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            await self.poll()
