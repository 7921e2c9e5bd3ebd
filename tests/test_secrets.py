"""Secrets are write-only and encrypted: no dump, log, audit detail, task message, response or error shows one."""

from __future__ import annotations

import json
import logging
import subprocess
from typing import Any

import pytest
from celery.signals import before_task_publish
from django.db import connection as db_connection
from django.test import Client

from connections.models import CloudConnection
from portal.audit.models import AuditEvent
from portal.tenancy.models import Organization
from tests.connection_inputs import VALID_INPUTS, service_account_key

AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYNEVERSHOWME1"
PRIVATE_KEY_MARKER = "NEVERSHOWTHEPRIVATEKEY"


@pytest.fixture
def published() -> Any:
    messages: list[Any] = []

    def capture(sender: str | None = None, body: Any = None, headers: Any = None, **kwargs: Any) -> None:
        messages.append({"task": sender, "body": body, "headers": headers})

    before_task_publish.connect(capture, weak=False)
    yield messages
    before_task_publish.disconnect(capture)


def _everything_said(responses: list[Any]) -> str:
    return "\n".join(r.content.decode(errors="replace") for r in responses)


@pytest.mark.postgres_only(reason="reads every stored row back with pg_dump")
def test_no_secret_leaks_anywhere(
    api: Any,
    owner: Any,
    platform_admin: Any,
    organization: Organization,
    published: list[Any],
    caplog: pytest.LogCaptureFixture,
    django_capture_on_commit_callbacks: Any,
    transactional_db: None,
) -> None:
    caplog.set_level(logging.DEBUG)
    key = service_account_key()
    secret_key_json = json.dumps(key)
    base = "/api/v1/organizations/acme/connections/"
    client = api(owner)
    responses = []
    with django_capture_on_commit_callbacks(execute=True):
        responses.append(
            client.post(
                base,
                {
                    "name": "aws",
                    "method": "aws_access_keys",
                    "values": {**VALID_INPUTS["aws_access_keys"], "secret_access_key": AWS_SECRET},
                },
                format="json",
            )
        )
        responses.append(
            client.post(
                base,
                {
                    "name": "gcp",
                    "method": "gcp_service_account_key",
                    "values": {"key_json": secret_key_json, "bucket": "acme-data"},
                },
                format="json",
            )
        )
        responses.append(
            client.patch(
                f"{base}aws/",
                {"values": {**VALID_INPUTS["aws_access_keys"], "secret_access_key": AWS_SECRET + "2"}},
                format="json",
            )
        )
    # Bad input that carries a secret: the error names the field and does not repeat the value.
    broken = {**key, "private_key": f"-----BEGIN PRIVATE KEY-----\n{PRIVATE_KEY_MARKER}\n-----END PRIVATE KEY-----\n"}
    responses.append(
        client.post(
            base,
            {
                "name": "bad",
                "method": "gcp_service_account_key",
                "values": {"key_json": json.dumps(broken), "bucket": "acme-data"},
            },
            format="json",
        )
    )
    responses.append(client.get(base))
    responses.append(client.get(f"{base}aws/"))
    responses.append(client.get(f"{base}gcp/report/"))
    assert [r.status_code for r in responses] == [201, 201, 200, 400, 200, 200, 200]

    admin = Client()
    admin.force_login(platform_admin)
    aws = CloudConnection.objects.get(name="aws")
    responses.append(admin.get(f"/admin/connections/cloudconnection/{aws.pk}/change/"))
    responses.append(admin.get("/admin/connections/cloudconnection/"))
    responses.append(admin.get("/admin/portal/auditevent/"))
    assert responses[-3].status_code == 200

    secrets = [AWS_SECRET, AWS_SECRET + "2", key["private_key"].splitlines()[1], PRIVATE_KEY_MARKER]
    said = _everything_said(responses)
    audit = json.dumps(list(AuditEvent.objects.values("details", "target_label")), default=str)
    tasks = json.dumps(published, default=str)
    logs = caplog.text
    for secret in secrets:
        assert secret not in said
        assert secret not in audit
        assert secret not in tasks
        assert secret not in logs
    assert len(published) == 3

    settings_dict = db_connection.settings_dict
    dump = subprocess.run(
        [
            "pg_dump",
            "--data-only",
            "-h",
            settings_dict["HOST"],
            "-p",
            str(settings_dict["PORT"]),
            "-U",
            settings_dict["USER"],
            settings_dict["NAME"],
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    assert "acme-data" in dump
    for secret in secrets:
        assert secret not in dump
    assert aws.secret == {"secret_access_key": AWS_SECRET + "2"}


@pytest.mark.postgres_only(reason="reads every stored row back with pg_dump")
def test_no_access_key_secret_leaks_anywhere(
    api: Any,
    owner: Any,
    member: Any,
    platform_admin: Any,
    space: Any,
    published: list[Any],
    caplog: pytest.LogCaptureFixture,
    transactional_db: None,
) -> None:
    """An S3 key's secret is in the answer that made it and nowhere else: not in later answers, the
    audit trail, task messages, logs, e-mails, the admin or the database."""
    from django.core import mail

    from accessgrants.models import AccessKey, KeyPolicy

    caplog.set_level(logging.DEBUG)
    client = api(member)
    request_id = client.post("/api/v1/key-requests/", {"reason": "backups"}, format="json").json()["id"]
    api(owner).post(f"/api/v1/key-requests/{request_id}/approve/", {"reason": "ok"}, format="json")
    collected = client.post(f"/api/v1/key-requests/{request_id}/collect/")
    KeyPolicy.objects.create(organization=space.organization, approval_required=False)
    made = client.post("/api/v1/keys/", {"description": "laptop"}, format="json")
    rotated = client.post(f"/api/v1/keys/{made.json()['access_key']}/rotate/")
    secrets = [r.json()["secret_key"] for r in (collected, made, rotated)]
    assert len(set(secrets)) == 3

    later = [
        client.get("/api/v1/keys/"),
        client.get(f"/api/v1/keys/{made.json()['access_key']}/"),
        client.get("/api/v1/key-requests/"),
        client.post(f"/api/v1/key-requests/{request_id}/collect/"),
        api(owner).get("/api/v1/organizations/acme/key-requests/"),
    ]
    admin = Client()
    admin.force_login(platform_admin)
    key = AccessKey.objects.get(access_key_id=made.json()["access_key"])
    later.append(admin.get(f"/admin/accessgrants/accesskey/{key.pk}/change/"))
    later.append(admin.get("/admin/accessgrants/accesskey/"))
    later.append(admin.get("/admin/accessgrants/keyrequest/"))
    later.append(admin.get("/admin/portal/auditevent/"))
    assert [r.status_code for r in later] == [200, 200, 200, 400, 200, 200, 200, 200, 200]

    said = _everything_said(later)
    audit = json.dumps(list(AuditEvent.objects.values("details", "target_label")), default=str)
    tasks = json.dumps(published, default=str)
    mails = "\n".join(message.body + message.subject for message in mail.outbox)
    settings_dict = db_connection.settings_dict
    dump = subprocess.run(
        [
            "pg_dump",
            "--data-only",
            "-h",
            settings_dict["HOST"],
            "-p",
            str(settings_dict["PORT"]),
            "-U",
            settings_dict["USER"],
            settings_dict["NAME"],
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    assert key.access_key_id in dump
    for secret in secrets:
        for place in (said, audit, tasks, caplog.text, mails, dump):
            assert secret not in place
