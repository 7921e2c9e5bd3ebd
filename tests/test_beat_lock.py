"""Beat started twice: one sends the schedule, the other stands by and takes over once the first dies.

Real ``celery beat`` processes on this run's database and Redis: on PostgreSQL they contend for an
advisory lock, on SQLite (``make run``) for a file lock beside the database. The audit journal's
drain, sent every second here, shows which beat sends the schedule.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django_celery_beat.models import PeriodicTask
from django_celery_beat.schedulers import DatabaseScheduler

from spaceport.beat import AdvisoryLock, FileLock, SingleBeatScheduler
from spaceport.celery import app
from tests.fixtures.worker import Worker, delete_queues, start_beat, stop_worker

DRAIN = "drain-audit-journal"


@pytest.fixture
def beats(transactional_db: None, broker: str, tmp_path: Path) -> Iterator[list[Worker]]:
    """Two beats started together; the tasks they sent leave with this run's queues."""
    started = [start_beat(tmp_path / "beat-1.log"), start_beat(tmp_path / "beat-2.log")]
    try:
        yield started
    finally:
        for beat in started:
            stop_worker(beat)
        delete_queues(settings.CELERY_BROKER_URL, settings.CELERY_TASK_DEFAULT_QUEUE)


def standing_by(beat: Worker) -> bool:
    return "beat: standing by, another beat sends the schedule" in beat.output()


def sends_anything(beat: Worker) -> bool:
    return "Sending due task" in beat.log.read_text(errors="replace")


@pytest.mark.worker
def test_a_second_beat_stands_by_and_takes_over_when_the_first_dies(beats: list[Worker]) -> None:
    first, second = beats
    first.wait_for(lambda: standing_by(first) or standing_by(second), what="one beat to stand by")
    holder, standby = (second, first) if standing_by(first) else (first, second)
    sent_when_the_standby_came = holder.sent(DRAIN)

    holder.wait_for(lambda: holder.sent(DRAIN) > sent_when_the_standby_came, what="the holder to send the drain")
    assert not sends_anything(standby), "the standby sends nothing while the other beat runs"
    assert standby.process.poll() is None, "the standby waits rather than exit"

    holder.process.send_signal(signal.SIGKILL)
    holder.process.wait(timeout=10)
    standby.wait_for(lambda: standby.sent(DRAIN) >= 1, timeout=30, what="the standby to take over")
    assert "this one sends the schedule now" in standby.output()


# --- the locks themselves, in this process ---


@pytest.mark.postgres_only(reason="PostgreSQL's advisory lock and its release with the session")
def test_the_advisory_lock_is_one_holders_and_goes_with_its_connection(db: None) -> None:
    holder, other = AdvisoryLock(), AdvisoryLock()
    try:
        assert holder.acquire() and holder.held()
        assert not other.acquire(), "a second session cannot take it"
        with holder.connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            pid = cursor.fetchone()[0]
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])

        assert not holder.held(), "the holder knows it lost its session"
        assert other.acquire(), "PostgreSQL released the lock with the session"
    finally:
        holder.release()
        other.release()


@pytest.mark.postgres_only(reason="PostgreSQL's advisory lock and its release with the session")
def test_a_beat_that_lost_its_lock_stands_by_and_reads_the_schedule_afresh(
    transactional_db: None, caplog: pytest.LogCaptureFixture
) -> None:
    """The scheduler runs in this process: its database scheduler opens and closes Django's
    connection as in beat, hence a database without the test's transaction around it."""
    scheduler = SingleBeatScheduler(app=app, lazy=True)
    scheduler.lock = lock = AdvisoryLock()
    try:
        assert lock.acquire()
        DatabaseScheduler.setup_schedule(scheduler)
        scheduler.tick()
        assert DRAIN in scheduler.schedule
        # Changed behind the scheduler's back, as another beat's run changes what it sent: a
        # scheduler that merely went on would keep its own copy for minutes.
        PeriodicTask.objects.filter(name=DRAIN).update(enabled=False)
        with lock.connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            pid = cursor.fetchone()[0]
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])

        with caplog.at_level("INFO", logger="spaceport.beat"):
            scheduler.tick()

        assert "the connection holding the beat lock was lost" in caplog.text
        assert lock.held(), "it took the lock again before it sent anything"
        assert DRAIN not in scheduler.schedule, "and read the schedule from the database again"
    finally:
        lock.release()


def test_the_file_lock_is_one_holders_until_released(tmp_path: Path) -> None:
    path = tmp_path / "spaceport.sqlite3.beat-lock"
    holder, other = FileLock(path), FileLock(path)
    assert holder.acquire()
    assert not other.acquire(), "a second open of the file cannot take it"
    holder.release()
    assert other.acquire()
    other.release()
