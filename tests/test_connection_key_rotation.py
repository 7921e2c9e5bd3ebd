"""Rotating a long-term-key connection's access key against moto's IAM, S3 and STS.

moto checks every request's signature and the caller's IAM policies, so a key that was deleted is
refused, and a user without the IAM permissions cannot rotate.
"""

from __future__ import annotations

import dataclasses
import secrets
from datetime import timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError
from django.urls import reverse
from django.utils import timezone

from connections import rotation
from connections.methods import Method, Provider, clean_input
from connections.models import CloudConnection, Status
from connections.providers import registry
from connections.providers.aws.client import build_client
from connections.providers.aws.instructions import steps
from connections.providers.aws.rotation import ROTATION, ROTATION_ACTIONS, rotation_statement
from connections.providers.rotating import IssuedKey
from connections.providers.spec import FieldSpec
from connections.tasks import rotate_connection_key, rotate_connection_keys
from portal.audit.models import AuditEvent
from tests.emulators import MOTO_ACCOUNT, AwsKey, MotoServer


@pytest.fixture(autouse=True)
def sts_at_moto(moto_server: MotoServer, settings: Any) -> None:
    settings.SPACEPORT_AWS_STS_ENDPOINT = moto_server.endpoint_url
    registry.forget_clients()


@pytest.fixture
def bucket(moto_server: MotoServer) -> str:
    name = f"spaceport-{secrets.token_hex(4)}"
    moto_server.client("s3").create_bucket(Bucket=name)
    return name


def user_policy(bucket: str, *, may_rotate: bool = True) -> dict[str, Any]:
    """The wizard's policy for the user, with the rotation statement's actions exactly as shown.

    moto checks IAM calls' actions but authorizes them against the resource ``*`` (it neither
    knows the user as the resource nor substitutes ``${aws:username}``), so here the statement's
    resource is ``*``; the wizard's own resource is checked in the last test.
    """
    statements: list[dict[str, Any]] = [
        {
            "Effect": "Allow",
            "Action": ["s3:ListBucket", "s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
            "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
        }
    ]
    if may_rotate:
        statements.append({**rotation_statement(MOTO_ACCOUNT), "Resource": "*"})
    return {"Version": "2012-10-17", "Statement": statements}


def iam_user(moto: MotoServer, bucket: str, *, may_rotate: bool = True) -> tuple[str, AwsKey]:
    name = f"spaceport-user-{secrets.token_hex(3)}"
    _, key = moto.create_user(name, user_policy(bucket, may_rotate=may_rotate))
    return name, key


def keys_connection(organization: Any, moto: MotoServer, bucket: str, key: AwsKey, **extra: Any) -> CloudConnection:
    values = {
        "access_key_id": key.access_key_id,
        "secret_access_key": key.secret_access_key,
        "bucket": bucket,
        "region": "us-east-1",
        "endpoint_url": moto.endpoint_url,
        "rotate_key": True,
        **extra,
    }
    config, secret = clean_input(Method.AWS_ACCESS_KEYS, values)
    return CloudConnection.objects.create(
        organization=organization,
        name=f"aws-{secrets.token_hex(3)}",
        provider=Provider.AWS,
        method=Method.AWS_ACCESS_KEYS,
        config=config,
        secret=secret,
        status=Status.VALID,
    )


def key_ids(moto: MotoServer, user: str) -> set[str]:
    listed = moto.client("iam").list_access_keys(UserName=user)["AccessKeyMetadata"]
    return {item["AccessKeyId"] for item in listed}


def rotation_events(connection: CloudConnection) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action="connection.key.rotate", target_id=str(connection.pk)))


def test_rotation_replaces_the_key_and_deletes_the_old_one(
    organization: Any, moto_server: MotoServer, bucket: str
) -> None:
    user, old = iam_user(moto_server, bucket)
    connection = keys_connection(organization, moto_server, bucket, old)

    assert rotate_connection_key(connection.pk) == rotation.Outcome.ROTATED

    connection.refresh_from_db()
    new_id = connection.config["access_key_id"]
    assert new_id != old.access_key_id
    assert connection.secret["secret_access_key"] != old.secret_access_key
    assert key_ids(moto_server, user) == {new_id}
    assert connection.key_rotation["outcome"] == "rotated"
    assert connection.key_rotation["key_id"] == new_id
    assert old.access_key_id in connection.key_rotation["message"]
    # The stored key works (and stays bound to the connection's endpoint), the old one no longer does.
    registry.forget_clients()
    client = build_client(connection)
    assert user in client.authenticate()
    checks, _ = rotation.probe.probe(connection)
    assert all(check.ok for check in checks), checks
    with pytest.raises(ClientError):
        moto_server.client("sts", old).get_caller_identity()
    [event] = rotation_events(connection)
    assert event.outcome == AuditEvent.Outcome.SUCCESS
    assert event.details["old_key_id"] == old.access_key_id
    assert old.secret_access_key not in str(event.details)


def test_a_new_key_that_does_not_validate_is_deleted_and_the_old_one_kept(
    organization: Any, moto_server: MotoServer, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cloud hands back a key that does not work: here the real new key's secret arrives mangled.

    No emulator makes a key it just created fail, so the provider's ``issue`` is wrapped to spoil
    the secret; the key itself is real, and deleting it is checked in moto's IAM.
    """

    def spoiled(connection: CloudConnection) -> IssuedKey:
        issued = ROTATION.issue(connection)
        return dataclasses.replace(issued, secret={**issued.secret, "secret_access_key": "x" * 40})

    aws = registry.PROVIDERS["aws"]
    monkeypatch.setitem(
        registry.PROVIDERS,
        "aws",
        dataclasses.replace(aws, key_rotation=dataclasses.replace(ROTATION, issue=spoiled)),
    )
    user, old = iam_user(moto_server, bucket)
    connection = keys_connection(organization, moto_server, bucket, old)
    stored_secret = dict(connection.secret)

    result = rotation.rotate(connection, settle_attempts=2, settle_pause=0)

    assert result.outcome == rotation.Outcome.FAILED
    connection.refresh_from_db()
    assert connection.config["access_key_id"] == old.access_key_id
    assert dict(connection.secret) == stored_secret
    assert key_ids(moto_server, user) == {old.access_key_id}
    report = connection.key_rotation
    assert report["outcome"] == "failed"
    assert "did not validate" in report["message"]
    assert "the old key is kept" in report["message"]
    assert "the new key was deleted" in report["message"]
    assert not report["rotated_at"]
    assert "x" * 40 not in str(report)
    [event] = rotation_events(connection)
    assert event.outcome == AuditEvent.Outcome.FAILURE
    assert user in build_client(connection).authenticate()


def test_a_user_without_the_iam_permissions_keeps_its_key(
    organization: Any, moto_server: MotoServer, bucket: str
) -> None:
    user, old = iam_user(moto_server, bucket, may_rotate=False)
    connection = keys_connection(organization, moto_server, bucket, old)

    assert rotation.rotate(connection).outcome == rotation.Outcome.FAILED

    connection.refresh_from_db()
    assert connection.config["access_key_id"] == old.access_key_id
    assert key_ids(moto_server, user) == {old.access_key_id}
    assert "may not manage its own access keys" in connection.key_rotation["message"]
    assert "iam:CreateAccessKey" in connection.key_rotation["hint"]


def test_a_user_with_two_keys_is_told_which_to_delete(organization: Any, moto_server: MotoServer, bucket: str) -> None:
    user, old = iam_user(moto_server, bucket)
    other = moto_server.client("iam").create_access_key(UserName=user)["AccessKey"]["AccessKeyId"]
    connection = keys_connection(organization, moto_server, bucket, old)

    assert rotation.rotate(connection).outcome == rotation.Outcome.FAILED

    connection.refresh_from_db()
    assert key_ids(moto_server, user) == {old.access_key_id, other}
    assert "already has 2 access keys" in connection.key_rotation["message"]
    assert other in connection.key_rotation["hint"]


def test_only_opted_in_valid_connections_with_an_old_key_are_due(
    organization: Any, moto_server: MotoServer, bucket: str, settings: Any
) -> None:
    settings.SPACEPORT_CONNECTION_KEY_ROTATION_DAYS = 30
    _, key = iam_user(moto_server, bucket)
    opted = keys_connection(organization, moto_server, bucket, key)
    not_opted = keys_connection(organization, moto_server, bucket, key, rotate_key=False)
    invalid = keys_connection(organization, moto_server, bucket, key)
    CloudConnection.objects.filter(pk=invalid.pk).update(status=Status.INVALID)
    now = timezone.now()

    assert rotation.due_ids(now) == []
    later = now + timedelta(days=31)
    assert rotation.due_ids(later) == [opted.pk]
    assert not_opted.pk not in rotation.due_ids(later)
    # A rotation restarts the clock; a failed one leaves it, so the next run tries again.
    CloudConnection.objects.filter(pk=opted.pk).update(key_rotation={"rotated_at": (later).isoformat()})
    assert rotation.due_ids(later + timedelta(days=29)) == []
    assert rotation.due_ids(later + timedelta(days=30)) == [opted.pk]


def test_the_daily_task_queues_one_rotation_per_due_connection(
    organization: Any, moto_server: MotoServer, bucket: str, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.SPACEPORT_CONNECTION_KEY_ROTATION_DAYS = 0
    _, key = iam_user(moto_server, bucket)
    connection = keys_connection(organization, moto_server, bucket, key)
    queued: list[int] = []
    monkeypatch.setattr(rotate_connection_key, "delay", queued.append)

    assert rotate_connection_keys() == 1
    assert queued == [connection.pk]
    assert "rotate-connection-keys" in settings.CELERY_BEAT_SCHEDULE


def test_the_wizard_shows_the_opt_in_and_the_permissions_rotation_needs(
    organization: Any, moto_server: MotoServer, bucket: str
) -> None:
    _, key = iam_user(moto_server, bucket)
    connection = keys_connection(organization, moto_server, bucket, key)
    field: FieldSpec = next(f for f in connection.spec.fields if f.name == "rotate_key")
    assert not field.secret and field.kind == "bool"

    text = "\n".join(step.body for step in steps(connection))
    for action in ROTATION_ACTIONS:
        assert action in text
    assert "arn:aws:iam::<your-account-id>:user/${aws:username}" in text


def test_the_outcome_shows_on_the_connection_page_and_in_the_api(
    organization: Any, moto_server: MotoServer, bucket: str, client: Any, owner: Any
) -> None:
    _, key = iam_user(moto_server, bucket, may_rotate=False)
    connection = keys_connection(organization, moto_server, bucket, key)
    rotation.rotate(connection)
    client.force_login(owner)

    names = {"organization_name": organization.name, "name": connection.name}
    page = client.get(reverse("connection", args=[organization.name, connection.name])).content.decode()
    answer = client.get(reverse("connection-detail", kwargs=names)).json()

    assert 'id="key-rotation"' in page
    assert "may not manage its own access keys" in page
    assert answer["key_rotation"]["outcome"] == "failed"
    assert answer["config"]["rotate_key"] is True
