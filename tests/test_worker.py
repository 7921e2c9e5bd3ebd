"""A real Celery worker process on Redis runs a task against the test database."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone
from django_celery_results.models import TaskResult

from portal.models import ApiToken
from portal.tasks import purge_expired_api_tokens

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def worker(transactional_db: None) -> Iterator[subprocess.Popen[bytes]]:
    """A worker bound to this run's own queue and test database, stopped after the test."""
    env = os.environ.copy()
    db = connection.settings_dict
    env["DATABASE_URL"] = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    env.pop("DATABASE_TEST_NAME", None)
    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "portal", "worker", "-Q", queue, "--pool", "solo", "-l", "warning"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.mark.worker
def test_a_worker_on_redis_runs_the_token_purge(worker: subprocess.Popen[bytes], member: object) -> None:
    assert settings.CELERY_BROKER_URL.startswith("redis://")
    expired, _ = ApiToken.issue(member, "old", expires=timezone.now() - timedelta(days=1))
    current, _ = ApiToken.issue(member, "current", expires=timezone.now() + timedelta(days=1))

    result = purge_expired_api_tokens.delay()
    deadline = time.monotonic() + 60
    while not result.ready() and time.monotonic() < deadline:
        assert worker.poll() is None, worker.stdout.read().decode() if worker.stdout else "worker exited"
        time.sleep(0.2)

    assert result.get(timeout=1) == 1
    assert list(ApiToken.objects.values_list("pk", flat=True)) == [current.pk]
    assert not ApiToken.objects.filter(pk=expired.pk).exists()
    stored = TaskResult.objects.get(task_id=result.id)
    assert stored.status == "SUCCESS"
    assert stored.task_name == "portal.tasks.purge_expired_api_tokens"
