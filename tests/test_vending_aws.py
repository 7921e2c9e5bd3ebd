"""Vended AWS credentials against moto: they work for what the level allows, and name the person.

moto checks signatures and the caller's IAM policies, and its assumed-role credentials work
against its S3. It does not enforce session policies (a read credential could still write
there), so what a credential may not do is proven on the exact Policy parameter Spaceport sent,
captured from the wire and fed to the evaluator in ``tests/policy_eval.py``.
"""

from __future__ import annotations

import http.client
import http.server
import json
import secrets
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from accessgrants.vending import issuing
from connections.active import make_active
from connections.methods import Method
from connections.models import CloudConnection, Status
from connections.providers.aws import vendor as vending
from connections.providers.aws.session_policy import packed, session_policy
from connections.providers.identity import workload_subject
from connections.providers.registry import client_for, forget_clients, location_for, vendor_for
from connections.providers.vending import Access, Credential, Scope
from portal.audit import journal
from portal.audit.models import AuditEvent
from portal.tenancy.grants import Grant, Role
from portal.tenancy.grants import Scope as GrantScope
from portal.tenancy.models import Organization, Space
from portal.tenancy.rules import AccessContext
from tests import test_provider_aws
from tests.conftest import assert_expires_in, make_user
from tests.emulators import LOOPBACK, AwsKey, MotoServer, aws_client
from tests.issuer_support import verify_published
from tests.policy_eval import allowed, may_list, object_arn
from tests.test_provider_aws import allow_unsigned, bucket_policy, connect, create_role, form, sent, signing_key

# The provider tests' fixtures, found by name here: STS at moto, a bucket, Spaceport's principal.
sts_at_moto = test_provider_aws.sts_at_moto
bucket = test_provider_aws.bucket
principal = test_provider_aws.principal

USER = "member@example.com"


@pytest.fixture
def cross_account(organization: Organization, moto_server: MotoServer, bucket: str, principal: Any) -> CloudConnection:
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": principal[0]},
                "Action": ["sts:AssumeRole", "sts:SetSourceIdentity"],
            }
        ],
    }
    values = {
        "role_arn": create_role(moto_server, bucket, trust),
        "bucket": bucket,
        "region": "us-east-1",
        "endpoint_url": moto_server.endpoint_url,
        "prefix": "spaceport/",
    }
    return connect(organization, Method.AWS_CROSS_ACCOUNT_ROLE, values)


def scope_for(
    connection: CloudConnection, access: str, *, lifetime: timedelta = timedelta(hours=1), user: str = USER
) -> Scope:
    return Scope(
        connection=connection,
        location=location_for(connection, "raw"),
        access=access,
        lifetime=lifetime,
        user_id=7,
        user_label=user,
    )


def s3_with(credential: Credential, moto: MotoServer) -> Any:
    key = AwsKey(
        credential.secret["access_key_id"], credential.secret["secret_access_key"], credential.secret["session_token"]
    )
    return aws_client("s3", moto.endpoint_url, key, region="us-east-1")


def exercise(s3: Any, bucket: str, access: str) -> None:
    """What the level allows, done for real with the vended credentials."""
    listed = s3.list_objects_v2(Bucket=bucket, Prefix="spaceport/raw/")
    assert [o["Key"] for o in listed.get("Contents", [])] == ["spaceport/raw/seed.csv"]
    assert s3.get_object(Bucket=bucket, Key="spaceport/raw/seed.csv")["Body"].read() == b"seed"
    if access in (Access.WRITE, Access.DELETE):
        s3.put_object(Bucket=bucket, Key="spaceport/raw/new/run.csv", Body=b"run")
        assert s3.get_object(Bucket=bucket, Key="spaceport/raw/new/run.csv")["Body"].read() == b"run"
    if access == Access.DELETE:
        s3.delete_object(Bucket=bucket, Key="spaceport/raw/seed.csv")
        assert s3.list_objects_v2(Bucket=bucket, Prefix="spaceport/raw/seed")["KeyCount"] == 0


def assert_policy_limits(policy: dict[str, Any], bucket: str, access: str) -> None:
    """What moto would let through but AWS refuses under this session policy."""
    inside, outside = object_arn(bucket, "spaceport/raw/x.csv"), object_arn(bucket, "spaceport/raw-archive/x.csv")
    assert allowed(policy, "s3:GetObject", inside)
    assert allowed(policy, "s3:PutObject", inside) == (access != Access.READ)
    assert allowed(policy, "s3:DeleteObject", inside) == (access == Access.DELETE)
    for action in ("s3:GetObject", "s3:PutObject", "s3:DeleteObject"):
        assert not allowed(policy, action, outside)
        assert not allowed(policy, action, object_arn(f"{bucket}-other", "spaceport/raw/x.csv"))
    assert may_list(policy, bucket, "spaceport/raw/")
    assert not may_list(policy, bucket, None)
    assert not may_list(policy, bucket, "spaceport/")


@pytest.mark.parametrize("access", list(Access))
def test_cross_account_credentials(
    access: str, cross_account: CloudConnection, moto_server: MotoServer, bucket: str, principal: Any
) -> None:
    moto_server.client("s3").put_object(Bucket=bucket, Key="spaceport/raw/seed.csv", Body=b"seed")
    vendor = vendor_for(cross_account)
    assert isinstance(vendor, vending.CrossAccountVendor)
    assert vendor.per_user
    assume = sent(vendor.role.sts, "sts.AssumeRole")

    credential = vendor.vend(scope_for(cross_account, access))

    assert len(assume) == 1
    request = form(assume[0])
    assert signing_key(assume[0]) == principal[1].access_key_id
    assert request == {
        "Action": "AssumeRole",
        "Version": "2011-06-15",
        "RoleArn": cross_account.config["role_arn"],
        "RoleSessionName": USER,
        "ExternalId": cross_account.external_id,
        "SourceIdentity": USER,
        "Policy": packed(session_policy(location_for(cross_account, "raw"), access)),
        "DurationSeconds": "3600",
    }
    assert_policy_limits(json.loads(request["Policy"]), bucket, access)
    assert credential.kind == "aws_sts"
    assert credential.access == access
    assert credential.location == {
        "bucket": bucket,
        "prefix": "spaceport/raw/",
        "region": "us-east-1",
        "endpoint_url": moto_server.endpoint_url,
    }
    s3 = s3_with(credential, moto_server)
    exercise(s3, bucket, access)
    caller = aws_client("sts", moto_server.endpoint_url, AwsKey(**credential.secret), region="us-east-1")
    assert caller.get_caller_identity()["Arn"].endswith(f"/{USER}"), "CloudTrail shows the person's session"


def test_lifetime_is_clamped_to_sts_limits_and_the_expiry_is_sts_own(cross_account: CloudConnection) -> None:
    vendor = vendor_for(cross_account)
    assert isinstance(vendor, vending.CrossAccountVendor)
    assume = sent(vendor.role.sts, "sts.AssumeRole")
    for lifetime, seconds in ((timedelta(minutes=5), 900), (timedelta(hours=20), 43200), (timedelta(minutes=45), 2700)):
        before = datetime.now(UTC)
        credential = vendor.vend(scope_for(cross_account, Access.READ, lifetime=lifetime))
        assert form(assume[-1])["DurationSeconds"] == str(seconds)
        assert credential.expires_at.tzinfo is not None
        assert_expires_in(credential.expires_at, timedelta(seconds=seconds), before)


@pytest.fixture
def short_sessions_sts(moto_server: MotoServer, settings: Any) -> Iterator[str]:
    """STS in front of moto for a role whose MaxSessionDuration is one hour (AWS's default).

    moto does not enforce MaxSessionDuration, so this stand-in answers longer AssumeRole requests
    with AWS's own error and passes every other request to moto unchanged (its signature included).
    """
    upstream = urlsplit(moto_server.endpoint_url)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            fields = parse_qs(body.decode())
            if fields.get("Action") == ["AssumeRole"] and int(fields.get("DurationSeconds", ["0"])[0]) > 3600:
                self._send(400, ROLE_MAXIMUM_ERROR.encode(), "text/xml")
                return
            connection = http.client.HTTPConnection(upstream.hostname or LOOPBACK, upstream.port, timeout=30)
            connection.request("POST", self.path, body=body, headers=dict(self.headers.items()))
            answer = connection.getresponse()
            self._send(answer.status, answer.read(), answer.getheader("Content-Type") or "text/xml")
            connection.close()

        def _send(self, status: int, payload: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer((LOOPBACK, 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings.SPACEPORT_AWS_STS_ENDPOINT = f"http://{LOOPBACK}:{server.server_address[1]}"
    forget_clients()
    try:
        yield settings.SPACEPORT_AWS_STS_ENDPOINT
    finally:
        server.shutdown()
        server.server_close()


ROLE_MAXIMUM_ERROR = (
    '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>'
    "<Code>ValidationError</Code><Message>The requested DurationSeconds exceeds the MaxSessionDuration set for "
    "this role.</Message></Error><RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId></ErrorResponse>"
)


def test_a_role_with_shorter_sessions_gets_its_longest_and_says_so(
    short_sessions_sts: str, cross_account: CloudConnection, moto_server: MotoServer, bucket: str
) -> None:
    vendor = vendor_for(cross_account)
    assert isinstance(vendor, vending.CrossAccountVendor)
    assume = sent(vendor.role.sts, "sts.AssumeRole")

    before = datetime.now(UTC)
    credential = vendor.vend(scope_for(cross_account, Access.READ, lifetime=timedelta(hours=4)))

    assert [form(r)["DurationSeconds"] for r in assume] == ["14400", "3600"]
    assert_expires_in(credential.expires_at, timedelta(hours=1), before)
    moto_server.client("s3").put_object(Bucket=bucket, Key="spaceport/raw/seed.csv", Body=b"seed")
    exercise(s3_with(credential, moto_server), bucket, Access.READ)


def test_names_are_cut_to_what_sts_accepts(cross_account: CloudConnection) -> None:
    vendor = vendor_for(cross_account)
    assert isinstance(vendor, vending.CrossAccountVendor)
    assume = sent(vendor.role.sts, "sts.AssumeRole")
    label = "Zoë O'Brien <" + "x" * 80 + "@example.com>"

    vendor.vend(scope_for(cross_account, Access.READ, user=label))

    request = form(assume[0])
    assert request["SourceIdentity"] == request["RoleSessionName"]
    assert len(request["SourceIdentity"]) == 64
    assert request["SourceIdentity"].startswith("Zo--O-Brien--xxx")
    assert request["SourceIdentity"].endswith("+7")
    assert vending.sts_name("a", 12, 64) == "user-12"
    assert vending.sts_name("m@x.io", 1, 32) == "m@x.io"


def test_a_role_that_refuses_is_a_clear_error(
    organization: Organization, moto_server: MotoServer, bucket: str, settings: Any
) -> None:
    """moto refuses AssumeRole to a principal whose own policy lacks it, as AWS refuses a trust-policy mismatch."""
    arn, key = moto_server.create_user(f"stranger-{secrets.token_hex(3)}", bucket_policy(bucket, ["s3:ListBucket"]))
    settings.SPACEPORT_AWS_ACCESS_KEY_ID = key.access_key_id
    settings.SPACEPORT_AWS_SECRET_ACCESS_KEY = key.secret_access_key
    settings.SPACEPORT_AWS_PRINCIPAL_ARN = arn
    role = create_role(moto_server, bucket, {"Version": "2012-10-17", "Statement": []})
    values = {"role_arn": role, "bucket": bucket, "region": "us-east-1", "endpoint_url": moto_server.endpoint_url}
    connection = connect(organization, Method.AWS_CROSS_ACCOUNT_ROLE, values)

    with pytest.raises(issuing.NotVendable) as raised:
        vendor_for(connection).vend(scope_for(connection, Access.READ))

    assert raised.value.code == "trust_policy"
    assert raised.value.field == "connection"
    assert "sts:SetSourceIdentity" in raised.value.message
    assert key.secret_access_key not in raised.value.message


def test_web_identity_credentials(
    organization: Organization, moto_server: MotoServer, bucket: str, tmp_path: Any, settings: Any
) -> None:
    token_path = tmp_path / "token"
    token_path.write_text("projected.identity.token\n")
    settings.SPACEPORT_WEB_IDENTITY_SOURCE = "external"
    settings.SPACEPORT_WEB_IDENTITY_TOKEN_FILE = str(token_path)
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": "arn:aws:iam::123456789012:oidc-provider/idp.spaceport.test"},
                "Action": "sts:AssumeRoleWithWebIdentity",
            }
        ],
    }
    role = create_role(moto_server, bucket, trust)
    values = {"role_arn": role, "bucket": bucket, "region": "us-east-1", "endpoint_url": moto_server.endpoint_url}
    connection = connect(organization, Method.AWS_WEB_IDENTITY, values)
    moto_server.client("s3").put_object(Bucket=bucket, Key="raw/seed.csv", Body=b"seed")
    vendor = vendor_for(connection)
    assert isinstance(vendor, vending.WebIdentityVendor)
    exchanges = sent(vendor.role.sts, "sts.AssumeRoleWithWebIdentity")

    allow_unsigned(moto_server, 1)
    credential = vendor.vend(scope_for(connection, Access.WRITE, lifetime=timedelta(minutes=30)))

    request = form(exchanges[0])
    assert request == {
        "Action": "AssumeRoleWithWebIdentity",
        "Version": "2011-06-15",
        "RoleArn": role,
        "RoleSessionName": USER,
        "WebIdentityToken": "projected.identity.token",
        "Policy": packed(session_policy(location_for(connection, "raw"), Access.WRITE)),
        "DurationSeconds": "1800",
    }
    assert "Authorization" not in exchanges[0].headers
    assert not allowed(json.loads(request["Policy"]), "s3:DeleteObject", object_arn(bucket, "raw/seed.csv"))
    s3 = s3_with(credential, moto_server)
    s3.put_object(Bucket=bucket, Key="raw/upload.csv", Body=b"up")
    assert s3.get_object(Bucket=bucket, Key="raw/seed.csv")["Body"].read() == b"seed"
    assert credential.location["prefix"] == "raw/"


def test_long_term_keys_get_a_federation_token(
    organization: Organization, moto_server: MotoServer, bucket: str
) -> None:
    """moto answers GetFederationToken with AWS's documentation example keys, which its own S3 does not
    know; so this test checks the request (signed by the connection's key, with the policy and the
    person's name) and the credential built from the answer, not their use."""
    policy = bucket_policy(bucket, ["s3:*"])
    policy["Statement"].append({"Effect": "Allow", "Action": "sts:GetFederationToken", "Resource": "*"})
    _, key = moto_server.create_user(f"keys-{secrets.token_hex(3)}", policy)
    values = {
        "access_key_id": key.access_key_id,
        "secret_access_key": key.secret_access_key,
        "bucket": bucket,
        "region": "us-east-1",
        "endpoint_url": moto_server.endpoint_url,
    }
    connection = connect(organization, Method.AWS_ACCESS_KEYS, values)
    vendor = vendor_for(connection)
    assert isinstance(vendor, vending.FederationVendor)
    requests = sent(vendor.client.sts, "sts.GetFederationToken")

    before = datetime.now(UTC)
    credential = vendor.vend(
        scope_for(connection, Access.DELETE, lifetime=timedelta(hours=30), user="a.very.long.name@example.com")
    )

    request = form(requests[0])
    assert signing_key(requests[0]) == key.access_key_id
    assert request == {
        "Action": "GetFederationToken",
        "Version": "2011-06-15",
        "Name": "a.very.long.name@example.com",
        "Policy": packed(session_policy(location_for(connection, "raw"), Access.DELETE)),
        "DurationSeconds": str(30 * 3600),
    }
    assert_expires_in(credential.expires_at, timedelta(hours=30), before)
    assert set(credential.secret) == {"access_key_id", "secret_access_key", "session_token"}
    assert credential.secret["session_token"]
    assert key.secret_access_key not in json.dumps(credential.secret)
    long = scope_for(connection, Access.READ, user="someone.with.a.long.address@example.com")
    vendor.vend(long)
    assert form(requests[1])["Name"] == "someone.with.a.long.address@ex+7"


def test_snippets_carry_the_credential_and_the_prefix(cross_account: CloudConnection, moto_server: MotoServer) -> None:
    credential = vendor_for(cross_account).vend(scope_for(cross_account, Access.DELETE))
    secret = credential.secret
    snippets = credential.snippets

    assert set(snippets) == {"env", "aws_cli", "credentials_file", "rclone"}
    for name in ("env", "credentials_file", "rclone"):
        for value in secret.values():
            assert value in snippets[name], name
    assert f"export AWS_ENDPOINT_URL_S3={moto_server.endpoint_url}" in snippets["env"]
    bucket = credential.location["bucket"]
    assert f"aws s3 ls s3://{bucket}/spaceport/raw/ --recursive" in snippets["aws_cli"]
    assert f"aws s3 rm s3://{bucket}/spaceport/raw/file.csv" in snippets["aws_cli"]
    assert snippets["credentials_file"].startswith("[spaceport-raw]\n")
    assert f"rclone ls spaceport:{bucket}/spaceport/raw/" in snippets["rclone"]
    assert "secret_access_key" not in repr(credential) and secret["secret_access_key"] not in repr(credential)


def supplier(email: str, space: Space) -> Any:
    user = make_user(email)
    Grant.objects.create(user=user, scope=GrantScope.ORGANIZATION, role=Role.ACCESS, organization=space.organization)
    Grant.objects.create(
        user=user, scope=GrantScope.SPACE, role=Role.SUPPLIER, organization=space.organization, space=space
    )
    return user


def test_issuing_caches_per_person(
    cross_account: CloudConnection, space: Space, member: Any, organization: Organization
) -> None:
    """Two people get two sessions, each under their own name; the same person asking again gets the cached one."""
    cross_account.status = Status.VALID
    cross_account.save()
    make_active(cross_account)
    other = supplier("other@example.com", space)
    client = client_for(cross_account)
    assume = sent(client.role.sts, "sts.AssumeRole")  # type: ignore[attr-defined]

    first = issuing.issue(AccessContext.for_user(member), space, access=Access.WRITE, user=member)
    again = issuing.issue(AccessContext.for_user(member), space, access=Access.WRITE, user=member)
    theirs = issuing.issue(AccessContext.for_user(other), space, access=Access.WRITE, user=other)

    assert (first.cached, again.cached, theirs.cached) == (False, True, False)
    assert again.credential.secret == first.credential.secret
    assert theirs.credential.secret["access_key_id"] != first.credential.secret["access_key_id"]
    assert [form(r)["SourceIdentity"] for r in assume] == ["member@example.com", "other@example.com"]
    journal.drain()
    issued = AuditEvent.objects.filter(action="credential.issue")
    assert issued.count() == 3
    for event in issued:
        text = json.dumps(event.details)
        for value in first.credential.secret.values():
            assert value not in text


def test_web_identity_credentials_carry_this_connections_subject(
    organization: Organization, moto_server: MotoServer, bucket: str, settings: Any
) -> None:
    """Vending trades the token Spaceport's issuer signs for this connection, as validation does."""
    settings.SPACEPORT_OIDC_ISSUER_URL = "https://spaceport.example.com"
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": "arn:aws:iam::123456789012:oidc-provider/spaceport.example.com"},
                "Action": "sts:AssumeRoleWithWebIdentity",
            }
        ],
    }
    role = create_role(moto_server, bucket, trust)
    values = {"role_arn": role, "bucket": bucket, "region": "us-east-1", "endpoint_url": moto_server.endpoint_url}
    connection = connect(organization, Method.AWS_WEB_IDENTITY, values)
    vendor = vendor_for(connection)
    assert isinstance(vendor, vending.WebIdentityVendor)
    exchanges = sent(vendor.role.sts, "sts.AssumeRoleWithWebIdentity")

    allow_unsigned(moto_server, 1)
    vendor.vend(scope_for(connection, Access.READ, lifetime=timedelta(minutes=30)))

    claims = verify_published(form(exchanges[0])["WebIdentityToken"], "sts.amazonaws.com")
    assert claims["sub"] == workload_subject(connection)
    assert claims["sub"].startswith("organization/acme/connection/spaceport-")
