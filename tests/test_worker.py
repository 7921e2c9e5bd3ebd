"""A real Celery worker process on Redis runs a task against the test database."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone
from django_celery_results.models import TaskResult

from portal.auth.models import ApiToken
from portal.tasks import purge_expired_api_tokens
from tests.fixtures.worker import Worker


@pytest.mark.worker
def test_a_worker_on_redis_runs_the_token_purge(worker: Worker, member: object) -> None:
    assert settings.CELERY_BROKER_URL.startswith("redis://")
    expired, _ = ApiToken.issue(member, "old", expires=timezone.now() - timedelta(days=1))
    current, _ = ApiToken.issue(member, "current", expires=timezone.now() + timedelta(days=1))

    result = purge_expired_api_tokens.delay()
    worker.wait_for(result.ready, what="the purge task")

    assert result.get(timeout=1) == 1
    assert list(ApiToken.objects.values_list("pk", flat=True)) == [current.pk]
    assert not ApiToken.objects.filter(pk=expired.pk).exists()
    stored = TaskResult.objects.get(task_id=result.id)
    assert stored.status == "SUCCESS"
    assert stored.task_name == "portal.tasks.purge_expired_api_tokens"
