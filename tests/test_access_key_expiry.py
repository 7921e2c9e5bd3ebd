"""Access keys' end of life: warned once, deactivated at expiry and after a rotation's grace, deleted later.

The domain functions are called with ``now`` moved forward; the last test runs a real beat and a
real worker on Redis against this run's database.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone

from accessgrants import keyexpiry
from accessgrants.accesskeys import issue_key, rotate_key
from accessgrants.models import AccessKey, KeyRequest
from accessgrants.tasks import sweep_access_keys
from portal.audit.models import AuditEvent
from portal.tenancy.models import Organization
from tests.emulators import free_port
from tests.fixtures.worker import ROOT, Worker, worker_database_url
from tests.pages_support import client_for


def events(key: AccessKey, action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action, target_id=str(key.pk)))


@pytest.fixture
def key(member: Any, organization: Organization, settings: Any) -> AccessKey:
    settings.SPACEPORT_ACCESS_KEY_EXPIRY_WARNING_DAYS = 7
    settings.SPACEPORT_ACCESS_KEY_DELETE_AFTER_DAYS = 30
    return issue_key(member, organization, lifetime_days=10).key


def test_the_owner_is_warned_once_within_the_warning_window(key: AccessKey, member: Any) -> None:
    now = timezone.now()
    assert keyexpiry.warn_expiring(now + timedelta(days=2)) == 0
    assert mail.outbox == []

    assert keyexpiry.warn_expiring(now + timedelta(days=4)) == 1
    assert keyexpiry.warn_expiring(now + timedelta(days=5)) == 0

    [message] = mail.outbox
    assert message.to == [member.email]
    assert key.access_key_id in message.subject
    key.refresh_from_db()
    secret = key.secret["secret_access_key"]
    assert secret not in message.body and secret not in message.subject
    assert key.expiry_warned_at is not None
    assert len(events(key, "accesskey.expiry_warning")) == 1


def test_a_warning_that_could_not_be_sent_is_tried_again(key: AccessKey, settings: Any) -> None:
    """A real SMTP connection to a port nothing listens on fails; the claim on the key is rolled back."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", free_port(), 2
    later = timezone.now() + timedelta(days=4)

    assert keyexpiry.warn_expiring(later) == 0
    key.refresh_from_db()
    assert key.expiry_warned_at is None

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert keyexpiry.warn_expiring(later) == 1
    assert len(mail.outbox) == 1


def test_a_key_is_deactivated_at_expiry_and_deleted_after_the_grace(key: AccessKey) -> None:
    expires = key.expires
    assert expires is not None

    assert keyexpiry.deactivate_expired(expires - timedelta(minutes=1)) == 0
    assert keyexpiry.deactivate_expired(expires) == 1
    key.refresh_from_db()
    assert key.status == AccessKey.Status.INACTIVE
    assert len(events(key, "accesskey.expire")) == 1
    [deactivated] = events(key, "accesskey.deactivate")
    assert deactivated.details["reason"] == "expired"

    assert keyexpiry.delete_expired(expires + timedelta(days=29)) == 0
    assert keyexpiry.delete_expired(expires + timedelta(days=30)) == 1
    assert not AccessKey.objects.filter(pk=key.pk).exists()
    [deleted] = events(key, "accesskey.delete")
    assert "expired" in deleted.details["reason"]


def test_a_rotated_key_stops_when_its_grace_is_over(key: AccessKey, settings: Any) -> None:
    settings.SPACEPORT_ACCESS_KEY_ROTATION_GRACE_HOURS = 24
    now = timezone.now()
    successor = rotate_key(key.pk, now=now).key

    assert keyexpiry.end_rotation_grace(now + timedelta(hours=23)) == 0
    assert keyexpiry.end_rotation_grace(now + timedelta(hours=24)) == 1

    key.refresh_from_db()
    successor.refresh_from_db()
    assert key.status == AccessKey.Status.INACTIVE
    assert successor.status == AccessKey.Status.ACTIVE
    assert "grace" in events(key, "accesskey.deactivate")[0].details["reason"]


def test_a_key_that_is_rotated_away_is_not_warned_about(key: AccessKey) -> None:
    rotate_key(key.pk)
    assert keyexpiry.warn_expiring(timezone.now() + timedelta(days=4)) == 1  # the successor's, not the old key's
    key.refresh_from_db()
    assert key.expiry_warned_at is None


def test_one_sweep_runs_every_step_and_the_task_reports_it(key: AccessKey) -> None:
    assert keyexpiry.sweep(timezone.now()).as_dict() == {
        "warned": 0,
        "expired": 0,
        "grace_ended": 0,
        "deleted": 0,
        "requests_expired": 0,
    }
    AccessKey.objects.filter(pk=key.pk).update(expires=timezone.now() - timedelta(seconds=1))
    assert sweep_access_keys() == {"warned": 0, "expired": 1, "grace_ended": 0, "deleted": 0, "requests_expired": 0}


def test_a_request_nobody_decides_expires_once_and_its_page_says_so(
    member: Any, owner: Any, organization: Organization, settings: Any
) -> None:
    settings.SPACEPORT_KEY_REQUEST_EXPIRY_DAYS = 14
    now = timezone.now()
    stale, fresh, approved = (
        KeyRequest.objects.create(requester=member, organization=organization, reason=reason)
        for reason in ("a forgotten need", "a recent need", "an approved need")
    )
    KeyRequest.objects.filter(pk=approved.pk).update(status=KeyRequest.Status.APPROVED)
    KeyRequest.objects.filter(pk__in=[stale.pk, approved.pk]).update(created=now - timedelta(days=14))
    KeyRequest.objects.filter(pk=fresh.pk).update(created=now - timedelta(days=13, hours=23))

    assert keyexpiry.sweep(now).requests_expired == 1
    assert keyexpiry.sweep(now).requests_expired == 0
    statuses = dict(KeyRequest.objects.values_list("pk", "status"))
    assert statuses == {stale.pk: "expired", fresh.pk: "requested", approved.pk: "approved"}
    [expired] = AuditEvent.objects.filter(action="keyrequest.expire")
    assert (expired.target_id, expired.details["days"], expired.details["status"]) == (str(stale.pk), 14, "expired")

    page = client_for(member).get("/keys/").content.decode()
    row = re.search(rf'<tr data-key-request="{stale.pk}">(.*?)</tr>', page, re.S)
    assert row is not None
    assert "Expired" in row.group(1) and "nobody decided it within 14 day(s)" in row.group(1)
    assert "Withdraw" not in row.group(1)

    admin = client_for(owner)
    assert "a forgotten need" not in admin.get(f"/o/{organization.name}/").content.decode()
    admin.post(f"/o/{organization.name}/key-requests/{stale.pk}/decide/", {"decision": "approve"})
    assert KeyRequest.objects.get(pk=stale.pk).status == "expired"


@pytest.fixture
def beat(transactional_db: None, tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """Celery beat as deployed (the database scheduler), sweeping access keys every second."""
    env = os.environ.copy()
    env.update(DATABASE_URL=worker_database_url(), SPACEPORT_ACCESS_KEY_SWEEP_SECONDS="1")
    env.pop("DATABASE_TEST_NAME", None)
    argv = [sys.executable, "-m", "celery", "-A", "spaceport", "beat", "-l", "info", "--max-interval", "1"]
    with (tmp_path / "beat.log").open("wb") as out:
        process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


def test_beat_and_a_worker_deactivate_an_expired_key(
    member: Any, organization: Organization, worker: Worker, beat: subprocess.Popen[bytes], tmp_path: Path
) -> None:
    key = issue_key(member, organization, lifetime_days=10).key
    AccessKey.objects.filter(pk=key.pk).update(expires=timezone.now() - timedelta(minutes=1))

    def deactivated() -> bool:
        key.refresh_from_db()
        return key.status == AccessKey.Status.INACTIVE

    worker.wait_for(deactivated, timeout=90, what="the sweep beat sends every second")
    assert beat.poll() is None
    assert "sweep_access_keys" in (tmp_path / "beat.log").read_text()
    assert len(events(key, "accesskey.expire")) == 1
