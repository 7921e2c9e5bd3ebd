"""One beat per deployment: the schedule is sent by whichever beat holds the database's beat lock.

Two beats sending the same schedule would queue every periodic task twice (two drains, two sweeps,
two revalidations of every connection). A beat therefore takes a lock on the deployment's database
before it loads the schedule, and holds it while it runs; a second beat started beside it stands
by, checking every ``SPACEPORT_BEAT_STANDBY_SECONDS``, and takes over once the first is gone.

The lock dies with its holder, however it dies: on PostgreSQL a session advisory lock on a
connection of its own (PostgreSQL drops it when the connection closes), on SQLite (``make run``,
one machine) an exclusive ``flock`` on a file beside the database (the kernel drops it with the
process). A beat whose PostgreSQL connection is lost no longer knows it holds the lock: it stands
by again, and once it holds the lock anew it reads the schedule afresh from the database (another
beat may have sent some of it meanwhile).
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import time
from pathlib import Path
from typing import Any, Protocol

from django.conf import settings
from django.db import DatabaseError, connections
from django_celery_beat.schedulers import DatabaseScheduler

logger = logging.getLogger(__name__)

# The advisory lock's key (class, object); the commit engine's runner locks use class 0x5C0, validations 0x5C2.
LOCK_KEY = (0x5C1, 0)


class BeatLock(Protocol):
    def acquire(self) -> bool: ...

    def held(self) -> bool: ...

    def release(self) -> None: ...


class AdvisoryLock:
    """A PostgreSQL session advisory lock on a connection apart from the one the scheduler uses
    (Django closes that one when it sees fit, which would drop the lock)."""

    def __init__(self) -> None:
        self.connection: Any = None

    def acquire(self) -> bool:
        if self.connection is None:
            self.connection = connections.create_connection("default")
        try:
            with self.connection.cursor() as cursor:
                cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", list(LOCK_KEY))
                return bool(cursor.fetchone()[0])
        except DatabaseError:
            self._forget()
            raise

    def held(self) -> bool:
        try:
            with self.connection.cursor() as cursor:
                cursor.execute("SELECT 1")
        except DatabaseError:
            self._forget()
            return False
        return True

    def release(self) -> None:
        self._forget()

    def _forget(self) -> None:
        if self.connection is not None:
            with contextlib.suppress(DatabaseError):
                self.connection.close()
        self.connection = None


class FileLock:
    """An exclusive ``flock`` on a file beside the SQLite database: one machine, one beat."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.descriptor: int | None = None

    def acquire(self) -> bool:
        descriptor = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(descriptor)
            return False
        self.descriptor = descriptor
        return True

    def held(self) -> bool:
        return self.descriptor is not None

    def release(self) -> None:
        if self.descriptor is not None:
            os.close(self.descriptor)
            self.descriptor = None


class NoLock:
    """A database with no lock to take: the beat runs, and the operator keeps it to one."""

    def acquire(self) -> bool:
        logger.warning("beat: the %s database offers no beat lock; run a single beat.", connections["default"].vendor)
        return True

    def held(self) -> bool:
        return True

    def release(self) -> None:
        pass


def beat_lock() -> BeatLock:
    """The lock that fits the deployment's database."""
    database = connections["default"]
    if database.vendor == "postgresql":
        return AdvisoryLock()
    if database.vendor == "sqlite":
        return FileLock(Path(f"{database.settings_dict['NAME']}.beat-lock"))
    return NoLock()


def wait_for(lock: BeatLock, poll_seconds: float) -> None:
    """Take the lock, standing by as long as another beat holds it or the database cannot be reached."""
    waiting = False
    while True:
        try:
            if lock.acquire():
                if waiting:
                    logger.info("beat: the other beat is gone; this one sends the schedule now.")
                return
            reason = "another beat sends the schedule of this database"
        except DatabaseError as exc:
            reason = f"the database cannot be reached ({exc.__class__.__name__})"
        if not waiting:
            logger.warning("beat: standing by, %s; trying again every %s s.", reason, poll_seconds)
            waiting = True
        time.sleep(poll_seconds)


class SingleBeatScheduler(DatabaseScheduler):
    """django-celery-beat's database scheduler, run by one beat at a time (the module says how)."""

    lock: BeatLock | None = None

    def setup_schedule(self) -> None:
        self.lock = beat_lock()
        wait_for(self.lock, settings.SPACEPORT_BEAT_STANDBY_SECONDS)
        super().setup_schedule()

    def tick(self, *args: Any, **kwargs: Any) -> float:
        if self.lock is not None and not self.lock.held():
            logger.error("beat: the connection holding the beat lock was lost; sending nothing until it is back.")
            self.lock.release()
            wait_for(self.lock, settings.SPACEPORT_BEAT_STANDBY_SECONDS)
            self._dirty.clear()
            self._initial_read = True
            self._heap = None
        return float(super().tick(*args, **kwargs))

    def close(self) -> None:
        try:
            super().close()
        finally:
            if self.lock is not None:
                self.lock.release()
