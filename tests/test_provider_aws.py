"""Amazon S3 with long-term keys, a cross-account role and OIDC web identity, against moto.

moto checks SigV4 signatures and the caller's IAM policies (so a principal without
sts:AssumeRole is refused, and a user without s3:PutObject cannot write). It does not enforce
trust-policy conditions: no emulator checks the ExternalId, so those tests capture the exact
AssumeRole requests Spaceport sends instead.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import jwt
import pytest

from connections.drafts import start_draft
from connections.lifecycle import update_connection
from connections.methods import Method, Provider, clean_input, spec_for
from connections.models import CloudConnection, new_external_id
from connections.providers.aws import client as aws
from connections.providers.base import Location, StorageError
from connections.providers.identity import workload_subject
from connections.providers.registry import forget_clients, location_for
from portal.tenancy.changes import create_organization
from tests.emulators import LOOPBACK, AwsKey, MotoServer, _post
from tests.fixtures.emulators import use_spaceport_principal
from tests.issuer_support import verify_published

EXTERNAL_ID_WARNING = (
    "The role's trust policy does not require the ExternalId: anyone who learns the role ARN could make a SaaS "
    "vendor act in your account (confused deputy). Add the sts:ExternalId condition."
)


def connect(organization: Any, method: str, values: dict[str, Any]) -> CloudConnection:
    config, secret = clean_input(method, values)
    return CloudConnection.objects.create(
        organization=organization,
        name=f"aws-{secrets.token_hex(3)}",
        provider=Provider.AWS,
        method=method,
        config=config,
        secret=secret,
        external_id=new_external_id() if spec_for(method).needs_connection_id else None,
    )


def bucket_policy(bucket: str, actions: list[str]) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": actions, "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"]}
        ],
    }


def sent(client: Any, event: str) -> list[Any]:
    """Every request ``client`` puts on the wire for ``event``, as sent (after signing)."""
    requests: list[Any] = []
    client.meta.events.register(f"before-send.{event}", lambda request, **_: requests.append(request))
    return requests


def form(request: Any) -> dict[str, str]:
    body = request.body.decode() if isinstance(request.body, bytes) else request.body
    return {name: values[0] for name, values in parse_qs(body).items()}


def signing_key(request: Any) -> str:
    authorization = request.headers["Authorization"]
    authorization = authorization.decode() if isinstance(authorization, bytes) else authorization
    return str(authorization.split("Credential=")[1].split("/")[0])


def allow_unsigned(moto: MotoServer, calls: int) -> None:
    """Let exactly ``calls`` unsigned requests through moto.

    AWS accepts AssumeRoleWithWebIdentity unsigned by design (the token is the proof), but moto
    cannot parse an unsigned request while it checks signatures, so the test opens a window of
    exactly one unchecked call for each token exchange. Every S3 call after it is checked.
    """
    _post(moto.endpoint_url, "/moto-api/reset-auth", str(calls).encode())


class Clock:
    """Stands in for botocore's clock, so a test can move to the moment credentials need refreshing."""

    def __init__(self) -> None:
        self.now: datetime | None = None

    def __call__(self) -> datetime:
        return self.now or datetime.now(UTC)


@pytest.fixture(autouse=True)
def sts_at_moto(moto_server: MotoServer, settings: Any) -> None:
    settings.SPACEPORT_AWS_STS_ENDPOINT = moto_server.endpoint_url
    forget_clients()


@pytest.fixture
def bucket(moto_server: MotoServer) -> str:
    name = f"spaceport-{secrets.token_hex(4)}"
    moto_server.client("s3").create_bucket(Bucket=name)
    return name


@pytest.fixture
def principal(moto_server: MotoServer, settings: Any) -> tuple[str, AwsKey]:
    """Spaceport's own AWS principal: an IAM user allowed to assume roles, and nothing else."""
    return use_spaceport_principal(moto_server, settings)


def create_role(moto: MotoServer, bucket: str, trust: dict[str, Any]) -> str:
    iam = moto.client("iam")
    name = f"customer-{secrets.token_hex(3)}"
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    policy = bucket_policy(bucket, ["s3:ListBucket", "s3:GetObject", "s3:PutObject", "s3:DeleteObject"])
    iam.put_role_policy(RoleName=name, PolicyName="spaceport", PolicyDocument=json.dumps(policy))
    return str(arn)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def cross_account(
    organization: Any, moto_server: MotoServer, bucket: str, principal: Any, clock: Clock
) -> aws.CrossAccountClient:
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": principal[0]}, "Action": "sts:AssumeRole"}],
    }
    role_arn = create_role(moto_server, bucket, trust)
    values = {"role_arn": role_arn, "bucket": bucket, "region": "us-east-1", "endpoint_url": moto_server.endpoint_url}
    connection = connect(organization, Method.AWS_CROSS_ACCOUNT_ROLE, values)
    client = aws.build_client(connection, clock=clock)
    assert isinstance(client, aws.CrossAccountClient)
    return client


def round_trip(client: aws.AwsClient, space: str = "raw") -> None:
    location = location_for(client.connection, space)
    written = client.put_object(location, "2024/run.csv", b"t,v\n0,1\n")
    assert written.key == f"{space}/2024/run.csv"
    assert [o.key for o in client.list_objects(location)] == [f"{space}/2024/run.csv"]
    assert client.get_object(location, "2024/run.csv") == b"t,v\n0,1\n"
    client.delete_object(location, "2024/run.csv")
    assert list(client.list_objects(location)) == []


# --- Long-term keys -------------------------------------------------------------------------


def keys_connection(organization: Any, moto: MotoServer, bucket: str, key: AwsKey) -> CloudConnection:
    values = {
        "access_key_id": key.access_key_id,
        "secret_access_key": key.secret_access_key,
        "bucket": bucket,
        "region": "us-east-1",
        "endpoint_url": moto.endpoint_url,
    }
    return connect(organization, Method.AWS_ACCESS_KEYS, values)


def test_long_term_keys_round_trip(organization: Any, moto_server: MotoServer, bucket: str) -> None:
    arn, key = moto_server.create_user(
        f"reader-writer-{secrets.token_hex(3)}",
        bucket_policy(bucket, ["s3:ListBucket", "s3:GetObject", "s3:PutObject", "s3:DeleteObject"]),
    )
    client = aws.build_client(keys_connection(organization, moto_server, bucket, key))

    assert client.authenticate() == f"Acting as {arn}."
    round_trip(client)


def test_wrong_secret_is_bad_credentials(organization: Any, moto_server: MotoServer, bucket: str) -> None:
    _, key = moto_server.create_user(f"user-{secrets.token_hex(3)}", bucket_policy(bucket, ["s3:*"]))
    wrong = AwsKey(key.access_key_id, "x" * 40)
    client = aws.build_client(keys_connection(organization, moto_server, bucket, wrong))

    for operation in (client.authenticate, lambda: list(client.list_objects(Location(bucket)))):
        with pytest.raises(Exception) as raised:
            operation()
        error = client.explain(raised.value)
        assert error.code == "invalid_credentials"
        assert "secret access key is wrong" in error.message
        assert "x" * 40 not in error.message + error.hint


def test_unknown_access_key(organization: Any, moto_server: MotoServer, bucket: str) -> None:
    client = aws.build_client(
        keys_connection(organization, moto_server, bucket, AwsKey("AKIAUNKNOWN0000000000", "y" * 40))
    )
    with pytest.raises(Exception) as raised:
        client.put_object(Location(bucket), "x", b"x")
    error = client.explain(raised.value)
    assert error.code == "invalid_credentials"
    assert "access key" in error.message


def test_missing_bucket(organization: Any, moto_server: MotoServer) -> None:
    client = aws.build_client(keys_connection(organization, moto_server, "no-such-bucket-here", moto_server.admin))
    with pytest.raises(Exception) as raised:
        list(client.list_objects(Location("no-such-bucket-here")))
    error = client.explain(raised.value)

    assert error.code == "no_such_bucket"
    assert "the bucket does not exist" in error.hint.lower()
    assert "no-such-bucket-here" in error.message
    assert not error.transient


def test_denied_operation_names_the_missing_permission(organization: Any, moto_server: MotoServer, bucket: str) -> None:
    _, key = moto_server.create_user(f"reader-{secrets.token_hex(3)}", bucket_policy(bucket, ["s3:ListBucket"]))
    client = aws.build_client(keys_connection(organization, moto_server, bucket, key))
    location = location_for(client.connection, "raw")

    assert list(client.list_objects(location)) == []
    with pytest.raises(Exception) as raised:
        client.put_object(location, "x.txt", b"x")
    error = client.explain(raised.value)

    assert error.code == "access_denied"
    assert "write objects" in error.message
    assert "s3:PutObject" in error.hint
    assert f"arn:aws:s3:::{bucket}/*" in error.hint
    assert key.access_key_id in error.hint


# --- Cross-account role ---------------------------------------------------------------------


def test_cross_account_role_is_assumed_with_our_principal(
    cross_account: aws.CrossAccountClient, principal: tuple[str, AwsKey]
) -> None:
    """The AssumeRole request carries exactly the role, session name and ExternalId, signed by Spaceport."""
    assume_requests = sent(cross_account.role.sts, "sts.AssumeRole")
    s3_requests = sent(cross_account.s3, "s3")

    message = cross_account.authenticate()
    round_trip(cross_account)

    assert len(assume_requests) == 1
    assert form(assume_requests[0]) == {
        "Action": "AssumeRole",
        "Version": "2011-06-15",
        "RoleArn": cross_account.role.role_arn,
        "RoleSessionName": "spaceport-acme",
        "ExternalId": cross_account.connection.external_id,
        "DurationSeconds": "3600",
    }
    assert signing_key(assume_requests[0]) == principal[1].access_key_id
    assert "assumed-role/" in message
    assert "spaceport-acme" in message
    temporary = {signing_key(request) for request in s3_requests}
    assert len(temporary) == 1
    assert temporary != {principal[1].access_key_id}
    assert all(request.headers.get("X-Amz-Security-Token") for request in s3_requests)


def test_trust_policy_without_external_id_condition_is_reported(cross_account: aws.CrossAccountClient) -> None:
    """No emulator enforces sts:ExternalId conditions: moto lets the stranger's call through, so the
    warning must fire here. The test also pins down that the probe really leaves the ExternalId out."""
    assume_requests = sent(cross_account.role.sts, "sts.AssumeRole")

    checks = cross_account.extra_checks()

    assert len(checks) == 1
    check = checks[0]
    assert (check.operation, check.ok, check.warning, check.skipped) == ("external_id", True, True, False)
    assert check.message == EXTERNAL_ID_WARNING
    assert cross_account.connection.external_id in check.hint
    probe = form(assume_requests[0])
    assert "ExternalId" not in probe
    assert probe["RoleArn"] == cross_account.role.role_arn


def test_principal_refused_by_the_role_is_a_trust_policy_error(
    organization: Any, moto_server: MotoServer, bucket: str, settings: Any
) -> None:
    """moto refuses AssumeRole to a principal whose own policy lacks sts:AssumeRole; AWS refuses it the
    same way when the role's trust policy does not name Spaceport or the ExternalId differs."""
    arn, key = moto_server.create_user(f"stranger-{secrets.token_hex(3)}", bucket_policy(bucket, ["s3:ListBucket"]))
    settings.SPACEPORT_AWS_ACCESS_KEY_ID = key.access_key_id
    settings.SPACEPORT_AWS_SECRET_ACCESS_KEY = key.secret_access_key
    settings.SPACEPORT_AWS_PRINCIPAL_ARN = arn
    role_arn = create_role(moto_server, bucket, {"Version": "2012-10-17", "Statement": []})
    values = {"role_arn": role_arn, "bucket": bucket, "region": "us-east-1", "endpoint_url": moto_server.endpoint_url}
    client = aws.build_client(connect(organization, Method.AWS_CROSS_ACCOUNT_ROLE, values))

    with pytest.raises(Exception) as raised:
        list(client.list_objects(Location(bucket)))
    error = client.explain(raised.value)

    assert error.code == "trust_policy"
    assert "The role's trust policy does not allow Spaceport" in error.hint
    assert "with this ExternalId" in error.hint
    assert arn in error.hint
    assert key.secret_access_key not in error.message + error.hint


def test_credentials_are_refreshed_before_they_expire(cross_account: aws.CrossAccountClient, clock: Clock) -> None:
    """A client kept for 24 credential lifetimes keeps working: each time the clock reaches the refresh
    window, the next request assumes the role again and is signed with the new credentials."""
    assume_requests = sent(cross_account.role.sts, "sts.AssumeRole")
    s3_requests = sent(cross_account.s3, "s3")
    location = location_for(cross_account.connection, "raw")

    cross_account.put_object(location, "clock.txt", b"0")
    keys = [signing_key(s3_requests[-1])]
    for hour in range(1, 25):
        assert cross_account.role.expires_at is not None
        clock.now = cross_account.role.expires_at - timedelta(minutes=5)
        cross_account.put_object(location, "clock.txt", str(hour).encode())
        keys.append(signing_key(s3_requests[-1]))
        clock.now = None
        assert cross_account.get_object(location, "clock.txt") == str(hour).encode()
        assert signing_key(s3_requests[-1]) == keys[-1]
        assert len(assume_requests) == hour + 1

    assert len(set(keys)) == 25


def test_short_sessions_refresh_in_time_but_not_on_every_request(
    cross_account: aws.CrossAccountClient, settings: Any
) -> None:
    """botocore's default 15-minute window would re-assume a 15-minute session on every request."""
    settings.SPACEPORT_AWS_SESSION_SECONDS = 900
    clock = Clock()
    client = aws.build_client(cross_account.connection, clock=clock)
    assert isinstance(client, aws.CrossAccountClient)
    assume_requests = sent(client.role.sts, "sts.AssumeRole")
    location = location_for(client.connection, "raw")

    for _ in range(3):
        list(client.list_objects(location))
    assert [form(r)["DurationSeconds"] for r in assume_requests] == ["900"]

    assert client.role.expires_at is not None
    clock.now = client.role.expires_at - timedelta(minutes=3)
    list(client.list_objects(location))
    assert len(assume_requests) == 2


# --- OIDC web identity ----------------------------------------------------------------------


@pytest.fixture
def web_role(moto_server: MotoServer, bucket: str) -> str:
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
    return create_role(moto_server, bucket, trust)


def web_connection(organization: Any, moto: MotoServer, bucket: str, role_arn: str) -> CloudConnection:
    values = {"role_arn": role_arn, "bucket": bucket, "region": "us-east-1", "endpoint_url": moto.endpoint_url}
    return connect(organization, Method.AWS_WEB_IDENTITY, values)


@pytest.fixture
def token_endpoint() -> Iterator[dict[str, Any]]:
    """A test token endpoint on loopback: no OIDC emulator exists, so this stands in for Spaceport's
    identity provider. It checks the client-credentials grant and issues a signed JWT."""
    state: dict[str, Any] = {
        "issued": [],
        "client": ("spaceport", "client-secret-value"),
        "audience": "sts.amazonaws.com",
    }

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
            expected = base64.b64encode(":".join(state["client"]).encode()).decode()
            if self.headers.get("Authorization") != f"Basic {expected}":
                self._answer(401, {"error": "invalid_client"})
            elif body.get("grant_type") != ["client_credentials"] or body.get("audience") != [state["audience"]]:
                self._answer(400, {"error": "invalid_request"})
            else:
                now = datetime.now(UTC)
                claims = {"iss": "https://idp.spaceport.test", "sub": "spaceport", "aud": state["audience"]}
                token = jwt.encode({**claims, "iat": now, "exp": now + timedelta(minutes=5)}, "k" * 32)
                state["issued"].append(token)
                self._answer(200, {"access_token": token, "token_type": "Bearer", "expires_in": 300})

        def _answer(self, status: int, payload: dict[str, Any]) -> None:
            raw = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer((LOOPBACK, 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state["url"] = f"http://{LOOPBACK}:{server.server_address[1]}/oauth2/token"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def test_web_identity_with_a_client_credentials_token(
    organization: Any,
    moto_server: MotoServer,
    bucket: str,
    web_role: str,
    token_endpoint: dict[str, Any],
    settings: Any,
) -> None:
    settings.SPACEPORT_WEB_IDENTITY_SOURCE = "external"
    settings.SPACEPORT_WEB_IDENTITY_TOKEN_URL = token_endpoint["url"]
    settings.SPACEPORT_WEB_IDENTITY_CLIENT_ID, settings.SPACEPORT_WEB_IDENTITY_CLIENT_SECRET = token_endpoint["client"]
    settings.SPACEPORT_WEB_IDENTITY_AUDIENCE = token_endpoint["audience"]
    client = aws.build_client(web_connection(organization, moto_server, bucket, web_role))
    assert isinstance(client, aws.RoleClient)
    exchanges = sent(client.role.sts, "sts.AssumeRoleWithWebIdentity")

    allow_unsigned(moto_server, 1)
    message = client.authenticate()
    round_trip(client)

    assert len(token_endpoint["issued"]) == 1
    assert len(exchanges) == 1
    assert form(exchanges[0]) == {
        "Action": "AssumeRoleWithWebIdentity",
        "Version": "2011-06-15",
        "RoleArn": web_role,
        "RoleSessionName": "spaceport-acme",
        "WebIdentityToken": token_endpoint["issued"][0],
        "DurationSeconds": "3600",
    }
    assert "Authorization" not in exchanges[0].headers
    assert "assumed-role/" in message


def test_web_identity_token_file_is_read_again_on_refresh(
    organization: Any, moto_server: MotoServer, bucket: str, web_role: str, tmp_path: Path, settings: Any
) -> None:
    """On Kubernetes the kubelet rotates the projected token in place; a refresh must use the new one."""
    token_path = tmp_path / "token"
    token_path.write_text("first.projected.token\n")
    settings.SPACEPORT_WEB_IDENTITY_SOURCE = "external"
    settings.SPACEPORT_WEB_IDENTITY_TOKEN_FILE = str(token_path)
    clock = Clock()
    client = aws.build_client(web_connection(organization, moto_server, bucket, web_role), clock=clock)
    assert isinstance(client, aws.RoleClient)
    exchanges = sent(client.role.sts, "sts.AssumeRoleWithWebIdentity")
    location = location_for(client.connection, "raw")

    allow_unsigned(moto_server, 1)
    client.put_object(location, "a.txt", b"a")
    token_path.write_text("second.projected.token\n")
    assert client.role.expires_at is not None
    clock.now = client.role.expires_at - timedelta(minutes=5)
    allow_unsigned(moto_server, 1)
    client.put_object(location, "b.txt", b"b")

    assert [form(r)["WebIdentityToken"] for r in exchanges] == ["first.projected.token", "second.projected.token"]
    clock.now = None
    assert sorted(o.key for o in client.list_objects(location)) == ["raw/a.txt", "raw/b.txt"]


def test_refused_identity_provider_client(
    organization: Any,
    moto_server: MotoServer,
    bucket: str,
    web_role: str,
    token_endpoint: dict[str, Any],
    settings: Any,
) -> None:
    settings.SPACEPORT_WEB_IDENTITY_SOURCE = "external"
    settings.SPACEPORT_WEB_IDENTITY_TOKEN_URL = token_endpoint["url"]
    settings.SPACEPORT_WEB_IDENTITY_CLIENT_ID = "spaceport"
    settings.SPACEPORT_WEB_IDENTITY_CLIENT_SECRET = "wrong-client-secret"
    settings.SPACEPORT_WEB_IDENTITY_AUDIENCE = token_endpoint["audience"]
    client = aws.build_client(web_connection(organization, moto_server, bucket, web_role))

    with pytest.raises(StorageError) as raised:
        client.authenticate()

    assert raised.value.code == "web_identity_token"
    assert "HTTP 401" in raised.value.message
    assert "wrong-client-secret" not in raised.value.message + raised.value.hint


def test_web_identity_needs_an_identity_provider(
    organization: Any, moto_server: MotoServer, bucket: str, web_role: str, settings: Any
) -> None:
    settings.SPACEPORT_WEB_IDENTITY_SOURCE = "external"
    with pytest.raises(StorageError) as raised:
        aws.build_client(web_connection(organization, moto_server, bucket, web_role))
    assert raised.value.code == "not_configured"
    assert "SPACEPORT_WEB_IDENTITY_TOKEN_FILE" in raised.value.hint


# --- Spaceport's own issuer: a token per organization and connection ---------------------------


def test_web_identity_trades_a_token_minted_for_this_connection(
    organization: Any, moto_server: MotoServer, bucket: str, web_role: str, settings: Any
) -> None:
    """moto accepts any well-formed token, so the test also checks what Spaceport sent, as AWS would:
    against the keys Spaceport publishes, with the issuer, audience, subject and expiry."""
    settings.SPACEPORT_OIDC_ISSUER_URL = "https://spaceport.example.com"
    connection = web_connection(organization, moto_server, bucket, web_role)
    client = aws.build_client(connection)
    assert isinstance(client, aws.RoleClient)
    exchanges = sent(client.role.sts, "sts.AssumeRoleWithWebIdentity")

    allow_unsigned(moto_server, 1)
    message = client.authenticate()
    round_trip(client)

    assert "assumed-role/" in message
    assert len(exchanges) == 1
    assert "Authorization" not in exchanges[0].headers
    claims = verify_published(form(exchanges[0])["WebIdentityToken"], "sts.amazonaws.com")
    assert claims["iss"] == "https://spaceport.example.com"
    assert claims["sub"] == f"organization/acme/connection/{connection.external_id}"
    assert claims["sub"] == workload_subject(connection)
    assert 0 < claims["exp"] - datetime.now(UTC).timestamp() <= settings.SPACEPORT_OIDC_TOKEN_SECONDS


def test_two_organizations_never_share_a_subject(
    organization: Any, owner: Any, moto_server: MotoServer, bucket: str, web_role: str
) -> None:
    """The hole this closes: org B naming org A's role gets a token with B's own subject, which A's
    trust policy does not admit."""
    other = create_organization(name="globex", owner=owner)
    ours = web_connection(organization, moto_server, bucket, web_role)
    theirs = web_connection(other, moto_server, bucket, web_role)
    tokens = []
    for connection in (ours, theirs):
        client = aws.build_client(connection)
        assert isinstance(client, aws.RoleClient)
        tokens.append(jwt.decode(client.role.token(), options={"verify_signature": False}))
    assert tokens[0]["sub"].startswith("organization/acme/connection/spaceport-")
    assert tokens[1]["sub"].startswith("organization/globex/connection/spaceport-")
    assert tokens[0]["sub"] != tokens[1]["sub"]


def test_renaming_a_connection_keeps_its_subject(
    organization: Any, moto_server: MotoServer, bucket: str, web_role: str
) -> None:
    connection = web_connection(organization, moto_server, bucket, web_role)
    before = workload_subject(connection)
    update_connection(connection, values=dict(connection.config), name="renamed-role", validate=False)
    connection.refresh_from_db()
    assert connection.name == "renamed-role"
    assert workload_subject(connection) == before


def test_wizard_connections_get_their_subject_at_creation(organization: Any, owner: Any) -> None:
    draft = start_draft(organization, Method.AWS_WEB_IDENTITY, created_by=owner)
    assert draft.external_id and draft.external_id.startswith("spaceport-")
    assert workload_subject(draft) == f"organization/acme/connection/{draft.external_id}"


def test_web_identity_without_a_signing_key_says_so(
    organization: Any, moto_server: MotoServer, bucket: str, web_role: str, settings: Any
) -> None:
    settings.SPACEPORT_OIDC_SIGNING_KEYS = []
    settings.SPACEPORT_OIDC_DEVELOPMENT_KEY_FILE = ""
    with pytest.raises(StorageError) as raised:
        aws.build_client(web_connection(organization, moto_server, bucket, web_role))
    assert raised.value.code == "not_configured"
    assert "SPACEPORT_OIDC_SIGNING_KEYS" in raised.value.hint
