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
