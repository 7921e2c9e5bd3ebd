"""Real Celery worker processes on Redis and on RabbitMQ run tasks against the test database, each
kind of work on its own queue, so a flooded queue holds up no other."""

from __future__ import annotations

import time
import uuid
from datetime import timedelta
from typing import Any

import psycopg
import pytest
from django.conf import settings
from django.db import connection as database
from django.utils import timezone
from django_celery_results.models import TaskResult

from connections import lifecycle
from connections.models import Status
from portal.auth.models import ApiToken
from portal.tasks import purge_expired_api_tokens
from portal.tenancy.models import Organization
from spaceport.celery import app
from spaceport.queues import KINDS, queue_lengths, queue_name, queue_names
from tests.emulators import RcloneS3
from tests.fixtures.worker import BROKER_URLS, BROKERS, Worker


@pytest.mark.worker
@pytest.mark.parametrize("broker", BROKERS, indirect=True)
def test_a_worker_runs_the_token_purge(broker: str, worker: Worker, member: object) -> None:
    assert BROKER_URLS[broker] == settings.CELERY_BROKER_URL
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
    assert f"transport:   {'amqp' if broker == 'rabbitmq' else 'redis'}" in worker.output()


@pytest.mark.parametrize(
    ("task", "kind"),
    [
        ("connections.tasks.validate_connection", "validation"),
        ("commits.tasks.run_commit", "commits"),
        ("commits.tasks.deliver_webhook", "webhooks"),
        ("commits.tasks.resume_stalled_commits", "housekeeping"),
        ("connections.tasks.revalidate_connections", "housekeeping"),
        ("connections.tasks.rotate_connection_key", "housekeeping"),
        ("accessgrants.tasks.sweep_access_keys", "housekeeping"),
        ("portal.tasks.purge_expired_api_tokens", "housekeeping"),
        ("portal.tasks.drain_audit_journal", "housekeeping"),
        ("celery.backend_cleanup", "housekeeping"),
        ("connections.tasks.revoke_connection_credentials", None),
        ("connections.tasks.prepare_space_storage", None),
    ],
)
def test_each_kind_of_work_travels_on_its_own_queue(task: str, kind: str | None) -> None:
    default = settings.CELERY_TASK_DEFAULT_QUEUE
    assert app.amqp.router.route({}, task)["queue"].name == (queue_name(default, kind) if kind else default)


def test_every_task_is_known_and_every_beat_entry_goes_to_housekeeping() -> None:
    app.loader.import_default_modules()
    routed = {name for name in app.tasks if not name.startswith("celery.")}
    assert "commits.tasks.run_commit" in routed
    default = settings.CELERY_TASK_DEFAULT_QUEUE
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        assert app.amqp.router.route({}, str(entry["task"]))["queue"].name == queue_name(default, "housekeeping")


def test_a_worker_without_queues_named_consumes_them_all() -> None:
    default = settings.CELERY_TASK_DEFAULT_QUEUE
    assert list(app.amqp.queues) == queue_names(default)
    assert len(KINDS) == 4


FLOOD = 50


@pytest.mark.worker
@pytest.mark.postgres_only("a table lock that really blocks the housekeeping worker")
@pytest.mark.parametrize("broker", BROKERS, indirect=True)
def test_a_flooded_housekeeping_queue_holds_up_no_validation(
    broker: str, worker_factory: Any, organization: Organization, rclone_s3: RcloneS3
) -> None:
    """50 housekeeping tasks wait behind one stuck on a slow query; a validation goes straight through.

    The stuck query is real: another session holds the API token table locked, so the purge the
    housekeeping worker runs waits on it, as it would behind a long migration or a vacuum.
    """
    default = settings.CELERY_TASK_DEFAULT_QUEUE
    housekeeping = worker_factory(queues=[queue_name(default, "housekeeping")])
    validation = worker_factory(queues=[queue_name(default, "validation")])
    bucket = f"acme-{uuid.uuid4().hex[:8]}"
    rclone_s3.client().create_bucket(Bucket=bucket)
    values = {
        "endpoint": rclone_s3.endpoint_url,
        "bucket": bucket,
        "access_key_id": rclone_s3.key.access_key_id,
        "secret_access_key": rclone_s3.key.secret_access_key,
        "verify_tls": False,
    }
    db = database.settings_dict
    lock = psycopg.connect(host=db["HOST"], port=db["PORT"], user=db["USER"], dbname=db["NAME"], autocommit=False)
    try:
        lock.execute(f"LOCK TABLE {ApiToken._meta.db_table} IN ACCESS EXCLUSIVE MODE")
        flood = [purge_expired_api_tokens.delay() for _ in range(FLOOD)]
        validation.wait_until_ready()

        started = time.monotonic()
        connection = lifecycle.create_connection(organization, name="store", method="s3_static_keys", values=values)

        def settled() -> bool:
            connection.refresh_from_db()
            return connection.status != Status.VALIDATING

        validation.wait_for(settled, timeout=60, what="the validation behind the flood")
        elapsed = time.monotonic() - started
        assert connection.status == Status.VALID, connection.validation_report
        waiting = queue_lengths(settings.CELERY_BROKER_URL, [queue_name(default, "housekeeping")])
        assert waiting[queue_name(default, "housekeeping")] >= FLOOD - 2, "the flood is still waiting"
        purges = TaskResult.objects.filter(task_name="portal.tasks.purge_expired_api_tokens")
        assert not purges.exclude(status="STARTED").exists(), "the housekeeping worker is stuck on its first"
        assert elapsed < 20, f"the validation took {elapsed:.1f} s behind the flood"
    finally:
        lock.rollback()
        lock.close()
    housekeeping.wait_for(
        lambda: TaskResult.objects.filter(task_id__in=[r.id for r in flood], status="SUCCESS").count() == FLOOD,
        timeout=180,
        what="the flood to drain once the lock is gone",
    )
