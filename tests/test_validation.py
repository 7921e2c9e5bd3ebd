"""Validation runs the real operations against real storage and reports what to fix.

Against ``rclone serve s3`` (which checks SigV4) and Azurite (which checks account-key
signatures). The run through a real Celery worker shows the whole path: create, commit,
task, report.
"""

from __future__ import annotations

import contextlib
import uuid
from typing import Any

import pytest

from connections import lifecycle
from connections.models import CloudConnection, Status
from connections.probe import validate
from connections.providers.registry import forget_clients
from portal.audit.models import AuditEvent
from portal.tenancy.models import Organization
from tests.emulators import Azurite, RcloneS3, free_port
from tests.fixtures.worker import BROKERS, Worker


@pytest.fixture(autouse=True)
def fresh_clients() -> None:
    forget_clients()


def s3compat_values(store: RcloneS3, bucket: str, **changes: Any) -> dict[str, Any]:
    return {
        "endpoint": store.endpoint_url,
        "bucket": bucket,
        "access_key_id": store.key.access_key_id,
        "secret_access_key": store.key.secret_access_key,
        "verify_tls": False,
        **changes,
    }


@pytest.fixture
def bucket(rclone_s3: RcloneS3) -> str:
    name = f"acme-{uuid.uuid4().hex[:8]}"
    rclone_s3.client().create_bucket(Bucket=name)
    return name


def make(organization: Organization, method: str, values: dict[str, Any], name: str = "store") -> CloudConnection:
    return lifecycle.create_connection(organization, name=name, method=method, values=values, validate=False)


def checks_of(connection: CloudConnection) -> dict[str, dict[str, Any]]:
    connection.refresh_from_db()
    return {c["operation"]: c for c in connection.validation_report["checks"]}


def test_a_working_store_passes_every_operation(organization: Organization, rclone_s3: RcloneS3, bucket: str) -> None:
    connection = make(organization, "s3_static_keys", s3compat_values(rclone_s3, bucket, prefix="spaceport"))
    status, retrying = validate(connection)
    assert (status, retrying) == (Status.VALID, False)
    checks = checks_of(connection)
    assert list(checks) == ["authenticate", "list", "write", "read", "delete"]
    assert all(c["ok"] for c in checks.values())
    assert "spaceport/loadingzone/.spaceport-validation/" in checks["write"]["message"]
    assert connection.status == Status.VALID and connection.validated_at is not None
    assert not list((rclone_s3.root / bucket).rglob("*.txt")), "the test object must be deleted"
    event = AuditEvent.objects.get(action="connection.validate")
    assert event.outcome == "success" and event.organization == organization


def test_a_wrong_secret_fails_with_what_to_fix_and_skips_the_rest(
    organization: Organization, rclone_s3: RcloneS3, bucket: str
) -> None:
    connection = make(
        organization, "s3_static_keys", s3compat_values(rclone_s3, bucket, secret_access_key="Zq9-not-the-secret")
    )
    status, _ = validate(connection)
    assert status == Status.INVALID
    checks = checks_of(connection)
    failed = [c for c in checks.values() if not c["ok"] and not c["skipped"]]
    assert len(failed) == 1
    assert "secret" in (failed[0]["message"] + failed[0]["hint"]).lower()
    assert all(c["skipped"] for c in list(checks.values())[list(checks).index(failed[0]["operation"]) + 1 :])
    assert "Zq9-not-the-secret" not in str(connection.validation_report)
    assert AuditEvent.objects.get(action="connection.validate").outcome == "failure"


def test_a_missing_bucket_says_so(organization: Organization, rclone_s3: RcloneS3) -> None:
    connection = make(organization, "s3_static_keys", s3compat_values(rclone_s3, "no-such-bucket-here"))
    assert validate(connection)[0] == Status.INVALID
    failed = next(c for c in checks_of(connection).values() if not c["ok"])
    assert failed["details"]["code"] == "no_such_bucket"
    assert "does not exist" in failed["message"] + failed["hint"]


def test_an_unreachable_store_is_retried_before_it_is_declared_invalid(organization: Organization) -> None:
    values = {
        "endpoint": f"http://127.0.0.1:{free_port()}",
        "bucket": "acme-data",
        "access_key_id": "AKIDEXAMPLE",
        "secret_access_key": "not-used",
    }
    connection = make(organization, "s3_static_keys", values)
    assert validate(connection, final=False) == (Status.INVALID, True)
    connection.refresh_from_db()
    assert connection.status == Status.VALIDATING
    assert connection.status_message.startswith("Retrying")
    assert not AuditEvent.objects.filter(action="connection.validate").exists()
    assert validate(connection, final=True) == (Status.INVALID, False)
    connection.refresh_from_db()
    assert connection.status == Status.INVALID
    failed = next(c for c in connection.validation_report["checks"] if not c["ok"])
    assert failed["details"]["code"] == "unreachable"


def test_azure_connection_string_against_azurite(organization: Organization, azurite: Azurite) -> None:
    """Azurite serves the whole session, so the container other tests may have made is removed first:
    validating a new Azure connection creates the loadingzone's container and every space's."""
    from azure.core.exceptions import ResourceNotFoundError
    from azure.storage.blob import BlobServiceClient

    service = BlobServiceClient.from_connection_string(azurite.connection_string)
    with contextlib.suppress(ResourceNotFoundError):
        service.delete_container("loadingzone")
    connection = make(organization, "azure_connection_string", {"connection_string": azurite.connection_string})
    assert validate(connection)[0] == Status.VALID, "the loadingzone's container is created by validating"
    assert service.get_container_client("loadingzone").exists()
    checks = checks_of(connection)
    assert all(c["ok"] for c in checks.values())
    assert checks["spaces"]["message"] == "Every space has its container."


def test_a_disabled_connection_keeps_its_status(organization: Organization, rclone_s3: RcloneS3, bucket: str) -> None:
    connection = make(organization, "s3_static_keys", s3compat_values(rclone_s3, bucket))
    lifecycle.start_validation(connection)
    lifecycle.disable_connection(connection)
    validate(connection)
    connection.refresh_from_db()
    assert connection.status == Status.DISABLED


@pytest.mark.worker
@pytest.mark.parametrize("broker", BROKERS, indirect=True)
def test_creating_a_connection_validates_it_in_a_worker(
    broker: str, worker: Worker, organization: Organization, rclone_s3: RcloneS3, bucket: str
) -> None:
    connection = lifecycle.create_connection(
        organization, name="store", method="s3_static_keys", values=s3compat_values(rclone_s3, bucket)
    )
    assert connection.status == Status.VALIDATING

    def settled() -> bool:
        connection.refresh_from_db()
        return connection.status != Status.VALIDATING

    worker.wait_for(settled, what="the validation task")
    assert connection.status == Status.VALID, connection.validation_report
    assert len(connection.validation_report["checks"]) == 5


def test_a_cross_account_role_set_up_from_our_instructions_validates(
    organization: Organization, moto_server: Any, settings: Any
) -> None:
    """The role is created with exactly the trust and permission policies the wizard shows.

    moto does not enforce the ExternalId condition, so the check that assumes the role without
    it succeeds here and the report carries the confused-deputy warning; against AWS that check
    fails and the warning is absent. The request Spaceport builds is tested in test_provider_aws.
    """
    import json
    import secrets

    from connections.providers.aws.instructions import cross_account_trust_policy
    from connections.providers.s3.instructions import s3_permission_policy
    from tests.fixtures.emulators import use_spaceport_principal

    settings.SPACEPORT_AWS_STS_ENDPOINT = moto_server.endpoint_url
    use_spaceport_principal(moto_server, settings)
    bucket = f"acme-{secrets.token_hex(4)}"
    moto_server.client("s3").create_bucket(Bucket=bucket)
    connection = lifecycle.create_connection(
        organization,
        name="aws",
        method="aws_cross_account_role",
        values={
            "role_arn": "arn:aws:iam::123456789012:role/placeholder",
            "bucket": bucket,
            "region": "us-east-1",
            "prefix": "spaceport",
            "endpoint_url": moto_server.endpoint_url,
        },
        draft=True,
    )
    iam = moto_server.client("iam")
    role_name = f"SpaceportAccess-{secrets.token_hex(3)}"
    role_arn = iam.create_role(
        RoleName=role_name,
        AssumeRolePolicyDocument=json.dumps(cross_account_trust_policy(connection.external_id or "")),
    )["Role"]["Arn"]
    iam.put_role_policy(
        RoleName=role_name,
        PolicyName="spaceport",
        PolicyDocument=json.dumps(s3_permission_policy(bucket, "spaceport/")),
    )
    lifecycle.update_connection(
        connection,
        values={**connection.config, "role_arn": role_arn},
        validate=False,
    )
    connection.refresh_from_db()
    status, _ = validate(connection)
    checks = checks_of(connection)
    assert status == Status.VALID, connection.validation_report
    assert [c["ok"] for name, c in checks.items() if name != "external_id"] == [True] * 5
    assert checks["external_id"]["warning"] is True
    assert "confused deputy" in checks["external_id"]["message"]
    assert connection.status_message.startswith("Works, with 1 warning")
