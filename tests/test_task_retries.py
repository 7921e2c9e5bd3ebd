"""How long background work waits between tries, as Celery's backoff computes it from each task's options.

The waits are the ones the documentation promises (docs/commits.md, docs/connections.md); a
connection's validation keeps its own schedule, which its report shows (test_validation_report).
"""

from __future__ import annotations

from typing import Any

import pytest
from celery.utils.time import get_exponential_backoff_interval

from commits.tasks import run_commit
from connections.tasks import prepare_space_storage, revoke_connection_credentials, revoke_space_credentials


def waits(task: Any) -> list[int]:
    """Seconds before each retry, as Celery's ``autoretry_for`` computes them."""
    assert task.retry_jitter is False, "the retry count bounds the window only without jitter"
    factor = int(max(1.0, task.retry_backoff))
    return [
        get_exponential_backoff_interval(factor, retries, task.retry_backoff_max, task.retry_jitter)
        for retries in range(task.max_retries)
    ]


@pytest.mark.parametrize(
    ("task", "expected"),
    [
        (run_commit, [10, 20, 40, 80, 160, 320]),
        (prepare_space_storage, [10, 20, 40, 80]),
        (revoke_connection_credentials, [10, 20, 40, 80]),
        (revoke_space_credentials, [10, 20, 40, 80]),
    ],
)
def test_storage_work_waits_longer_after_each_failure(task: Any, expected: list[int]) -> None:
    assert waits(task) == expected
