"""The GCS provider against gcp-storage-emulator, with the token exchanges done for real.

gcp-storage-emulator checks no credentials at all, and no emulator exists for Google's OAuth
token endpoint, its STS (workload identity federation) or the IAM Credentials API. So these tests
run small stand-ins for those three on loopback that check what Spaceport sends (the signed
JWT-bearer assertion, the token-exchange request, the impersonation call), and put a recording
proxy in front of the emulator to check that every storage request carries the token they issued.
"""

from __future__ import annotations

import datetime as dt
import http.client
import http.server
import json
import re
import secrets
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest

from connections.methods import ConnectionInputError, Method, Provider, clean_input, spec_for
from connections.models import CloudConnection, new_external_id
from connections.probe import validate
from connections.providers.base import Location, StorageError
from connections.providers.gcp import client as gcp
from connections.providers.gcp.accounts import organization_service_account
from connections.providers.registry import client_for, forget_clients, location_for
from portal.tenancy.changes import create_organization
from portal.tenancy.models import Organization
from tests.connection_inputs import service_account_key as shared_service_account_key
from tests.emulators import LOOPBACK, GcsEmulator, free_port
from tests.issuer_support import verify_published
from tests.loopback import Call, json_endpoint, serve
from tests.storage_contract import assert_round_trip

READ_WRITE = "https://www.googleapis.com/auth/devstorage.read_write"
CLOUD_PLATFORM = "https://www.googleapis.com/auth/cloud-platform"
IAM = "https://www.googleapis.com/auth/iam"
TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
POOL_AUDIENCE = "//iam.googleapis.com/projects/123456/locations/global/workloadIdentityPools/spaceport/providers/portal"
IMPERSONATED = "reader@customer-project.iam.gserviceaccount.com"


@dataclass
class GoogleStandIn:
    """Google's OAuth token endpoint, STS and IAM Credentials API, for the keys the tests create."""

    base: str
    storage_endpoint: str = ""
    public_keys: dict[str, Any] = field(default_factory=dict)
    disabled_keys: set[str] = field(default_factory=set)
    pool_refuses: bool = False
    clock_off: bool = False
    storage_refuses: str = ""
    requests: list[tuple[str, dict[str, Any], str]] = field(default_factory=list)
    issued: list[str] = field(default_factory=list)
    storage_authorizations: list[str] = field(default_factory=list)
    storage_paths: list[str] = field(default_factory=list)
    # The IAM API's service accounts, who holds which impersonated token, and the buckets' IAM
    # policies (a bucket listed here admits only the accounts named; no emulator checks IAM).
    accounts: set[str] = field(default_factory=set)
    token_owner: dict[str, str] = field(default_factory=dict)
    bucket_grants: dict[str, set[str]] = field(default_factory=dict)

    def new_token(self, kind: str) -> str:
        token = f"ya29.{kind}-{secrets.token_urlsafe(12)}"
        self.issued.append(token)
        return token

    def oauth_token(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        if form.get("grant_type") != JWT_BEARER:
            return 400, {"error": "unsupported_grant_type"}
        header = jwt.get_unverified_header(form["assertion"])
        kid = header.get("kid", "")
        if self.clock_off:
            return 400, {
                "error": "invalid_grant",
                "error_description": "Invalid JWT: Token must be a short-lived token (60 minutes) and in a "
                "reasonable timeframe. Check your iat and exp values in the JWT claim.",
            }
        if kid not in self.public_keys or kid in self.disabled_keys:
            return 400, {"error": "invalid_grant", "error_description": "Invalid JWT Signature."}
        claims = jwt.decode(
            form["assertion"],
            self.public_keys[kid],
            algorithms=["RS256"],
            audience="https://oauth2.googleapis.com/token",
        )
        if not {READ_WRITE, CLOUD_PLATFORM, IAM} & set(claims.get("scope", "").split()):
            return 400, {"error": "invalid_scope"}
        return 200, {"access_token": self.new_token("sa"), "expires_in": 3599, "token_type": "Bearer"}

    def sts_token(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        if self.pool_refuses:
            return 400, {
                "error": "unauthorized_client",
                "error_description": "The given credential is rejected by the attribute condition.",
            }
        return 200, {
            "access_token": self.new_token("sts"),
            "issued_token_type": "urn:ietf:params:oauth:token-type:access_token",
            "token_type": "Bearer",
            "expires_in": 3600,
        }

    def create_account(self, path: str, body: dict[str, Any], authorization: str) -> tuple[int, dict[str, Any]]:
        """IAM ``projects.serviceAccounts.create``, for Spaceport's own identity only."""
        if not self._spaceport_itself(authorization):
            return 401, {"error": {"code": 401, "message": "Request had invalid authentication credentials."}}
        project = path.split("/")[3]
        email = f"{body['accountId']}@{project}.iam.gserviceaccount.com"
        if email in self.accounts:
            return 409, {"error": {"code": 409, "message": "Service account already exists."}}
        self.accounts.add(email)
        return 200, {"email": email, "name": f"projects/{project}/serviceAccounts/{email}"}

    def impersonate_account(self, email: str, authorization: str) -> tuple[int, dict[str, Any]]:
        """IAM Credentials ``generateAccessToken`` for an account that exists, asked by Spaceport itself."""
        if not self._spaceport_itself(authorization) or email not in self.accounts:
            return 403, {"error": {"code": 403, "message": "Permission 'iam.serviceAccounts.getAccessToken' denied"}}
        token = self.new_token("as")
        self.token_owner[token] = email
        expiry = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        return 200, {"accessToken": token, "expireTime": expiry}

    def _spaceport_itself(self, authorization: str) -> bool:
        return any(authorization == f"Bearer {token}" for token in self.issued if token.startswith("ya29.sa-"))

    def admits(self, path: str, authorization: str) -> bool:
        bucket = re.search(r"/b/([^/?]+)", path)
        if bucket is None or bucket.group(1) not in self.bucket_grants:
            return True
        owner = self.token_owner.get(authorization.removeprefix("Bearer "), "")
        return owner in self.bucket_grants[bucket.group(1)]

    def impersonate(self, authorization: str) -> tuple[int, dict[str, Any]]:
        if not any(authorization == f"Bearer {token}" for token in self.issued if token.startswith("ya29.sts-")):
            return 401, {"error": {"code": 401, "message": "Request had invalid authentication credentials."}}
        expiry = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        return 200, {"accessToken": self.new_token("impersonated"), "expireTime": expiry}


@pytest.fixture
def google(gcs_emulator: GcsEmulator) -> Iterator[GoogleStandIn]:
    stand_in = GoogleStandIn(base="")

    def answer(call: Call) -> tuple[int, Any]:
        authorization = call.headers.get("Authorization", "")
        stand_in.requests.append((call.path, call.body, authorization))
        if call.path == "/token":
            return stand_in.oauth_token(call.body)
        if call.path == "/v1/token":
            return stand_in.sts_token(call.body)
        if call.path.endswith(f"/serviceAccounts/{IMPERSONATED}:generateAccessToken"):
            return stand_in.impersonate(authorization)
        if call.path.endswith(":generateAccessToken"):
            return stand_in.impersonate_account(call.path.split("/")[-1].split(":")[0], authorization)
        if re.fullmatch(r"/v1/projects/[^/]+/serviceAccounts", call.path):
            return stand_in.create_account(call.path, call.body, authorization)
        return 404, {"error": "not_found"}

    emulator_port = int(urlsplit(gcs_emulator.endpoint_url).port or 0)

    class StorageProxy(http.server.BaseHTTPRequestHandler):
        """Forwards to the emulator, recording the Authorization header it would ignore."""

        def _forward(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            stand_in.storage_authorizations.append(self.headers.get("Authorization", ""))
            stand_in.storage_paths.append(self.path)
            if stand_in.storage_refuses:
                self._refuse(stand_in.storage_refuses)
                return
            if not stand_in.admits(self.path, self.headers.get("Authorization", "")):
                self._refuse("storage.objects.list")
                return
            upstream = http.client.HTTPConnection(LOOPBACK, emulator_port, timeout=30)
            skip = {"host", "connection", "transfer-encoding", "content-length"}
            headers = {k: v for k, v in self.headers.items() if k.lower() not in skip}
            upstream.request(self.command, self.path, body=body, headers=headers)
            response = upstream.getresponse()
            data = response.read()
            upstream.close()
            self.send_response(response.status)
            for key, value in response.getheaders():
                if key.lower() not in skip:
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _refuse(self, permission: str) -> None:
            """Google's answer when the bucket's IAM policy lacks ``permission`` (no emulator checks IAM)."""
            message = (
                f"spaceport@customer-project.iam.gserviceaccount.com does not have {permission} access to the "
                f"Google Cloud Storage object. Permission '{permission}' denied on resource (or it may not exist)."
            )
            payload = json.dumps(
                {"error": {"code": 403, "message": message, "errors": [{"reason": "forbidden", "message": message}]}}
            ).encode()
            self.send_response(403)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _forward

        def log_message(self, format: str, *args: Any) -> None:
            pass

    with json_endpoint(answer) as tokens, serve(StorageProxy) as proxy:
        stand_in.base, stand_in.storage_endpoint = tokens, proxy
        yield stand_in


@pytest.fixture(autouse=True)
def allow_loopback_token_hosts(settings: Any) -> None:
    """The stand-ins live on loopback; production accepts only *.googleapis.com unless told otherwise."""
    settings.SPACEPORT_GCP_EXTRA_TOKEN_HOSTS = [LOOPBACK]
    forget_clients()


def service_account_key(
    google: GoogleStandIn, email: str = "spaceport@customer-project.iam.gserviceaccount.com"
) -> dict[str, Any]:
    """A key file with token_uri at the stand-in, which knows its public key."""
    return shared_service_account_key(
        f"{google.base}/token", public_keys=google.public_keys, project="customer-project", email=email
    )


def make_connection(organization: Organization, method: str, values: dict[str, Any]) -> CloudConnection:
    config, secret = clean_input(method, values)
    return CloudConnection.objects.create(
        organization=organization,
        name=f"gcs-{uuid.uuid4().hex[:8]}",
        provider=Provider.GCP,
        method=method,
        config=config,
        secret=secret,
        external_id=new_external_id() if spec_for(method).needs_connection_id else None,
    )


@pytest.fixture
def bucket(gcs_emulator: GcsEmulator) -> str:
    name = f"bucket-{uuid.uuid4().hex[:10]}"
    gcs_emulator.client().create_bucket(name)
    return name


def test_service_account_key_round_trip_under_the_space_prefix(
    organization: Organization, google: GoogleStandIn, bucket: str, gcs_emulator: GcsEmulator
) -> None:
    key = service_account_key(google)
    connection = make_connection(
        organization,
        Method.GCP_SERVICE_ACCOUNT_KEY,
        {"key_json": json.dumps(key), "bucket": bucket, "prefix": "spaceport", "api_endpoint": google.storage_endpoint},
    )
    client = client_for(connection)
    assert isinstance(client, gcp.GcsClient)
    assert key["client_email"] in client.authenticate()
    location = location_for(connection, "raw")
    assert location == Location(bucket=bucket, prefix="spaceport/raw/")
    gcs_emulator.client().bucket(bucket).blob("elsewhere/other.txt").upload_from_string(b"not in the space")

    assert_round_trip(client, location)

    token_requests = [body for path, body, _ in google.requests if path == "/token"]
    assert len(token_requests) == 1, "one credentials object per client: the token is reused"
    assert token_requests[0]["grant_type"] == JWT_BEARER
    assert google.storage_authorizations
    assert set(google.storage_authorizations) == {f"Bearer {google.issued[0]}"}


def test_listing_asks_for_pages_and_honours_the_limit(
    organization: Organization, google: GoogleStandIn, bucket: str, monkeypatch: Any
) -> None:
    """gcp-storage-emulator ignores maxResults and answers in one page, so only the request is checked."""
    monkeypatch.setattr(gcp, "PAGE_SIZE", 2)
    connection = make_connection(
        organization,
        Method.GCP_SERVICE_ACCOUNT_KEY,
        {"key_json": service_account_key(google), "bucket": bucket, "api_endpoint": google.storage_endpoint},
    )
    client = gcp.build_client(connection)
    location = location_for(connection, "paged")
    keys = {location.key(f"{n}.txt") for n in range(5)}
    for key in keys:
        client.put_object(location, key.removeprefix(location.prefix), b"x")
    assert {item.key for item in client.list_objects(location)} == keys
    listing = parse_qs(urlsplit(google.storage_paths[-1]).query)
    assert listing["maxResults"] == ["2"]
    assert listing["prefix"] == ["paged/"]
    assert len(list(client.list_objects(location, limit=4))) == 4


def test_missing_bucket_is_no_such_bucket(organization: Organization, google: GoogleStandIn) -> None:
    connection = make_connection(
        organization,
        Method.GCP_SERVICE_ACCOUNT_KEY,
        {"key_json": service_account_key(google), "bucket": "no-such-bucket", "api_endpoint": google.storage_endpoint},
    )
    client = gcp.build_client(connection)
    location = location_for(connection, "raw")
    for operation in (
        lambda: client.put_object(location, "x.txt", b"x"),
        lambda: list(client.list_objects(location)),
        lambda: client.get_object(location, "x.txt"),
        lambda: client.delete_object(location, "x.txt"),
    ):
        with pytest.raises(StorageError) as excinfo:
            operation()
        assert excinfo.value.code == "no_such_bucket"
        assert "'no-such-bucket' does not exist" in excinfo.value.hint


def test_deleted_key_is_invalid_credentials(organization: Organization, google: GoogleStandIn, bucket: str) -> None:
    key = service_account_key(google)
    google.disabled_keys.add(key["private_key_id"])
    connection = make_connection(
        organization,
        Method.GCP_SERVICE_ACCOUNT_KEY,
        {"key_json": key, "bucket": bucket, "api_endpoint": google.storage_endpoint},
    )
    client = gcp.build_client(connection)
    with pytest.raises(StorageError) as excinfo:
        client.authenticate()
    assert excinfo.value.code == "invalid_credentials"
    assert "deleted or disabled" in excinfo.value.hint
    with pytest.raises(StorageError) as excinfo:
        client.put_object(location_for(connection, "raw"), "x.txt", b"x")
    assert excinfo.value.code == "invalid_credentials"
    private_key_body = key["private_key"].splitlines()[1]
    assert private_key_body not in excinfo.value.message + excinfo.value.hint
    assert google.storage_authorizations == [], "nothing reaches storage without a token"


def test_missing_permission_is_named(organization: Organization, google: GoogleStandIn, bucket: str) -> None:
    google.storage_refuses = "storage.objects.create"
    connection = make_connection(
        organization,
        Method.GCP_SERVICE_ACCOUNT_KEY,
        {"key_json": service_account_key(google), "bucket": bucket, "api_endpoint": google.storage_endpoint},
    )
    with pytest.raises(StorageError) as excinfo:
        gcp.build_client(connection).put_object(location_for(connection, "raw"), "x.txt", b"x")
    assert excinfo.value.code == "access_denied"
    assert "storage.objects.create" in excinfo.value.message
    assert "roles/storage.objectAdmin" in excinfo.value.hint


def test_refused_token_timeframe_is_clock_skew(organization: Organization, google: GoogleStandIn, bucket: str) -> None:
    google.clock_off = True
    connection = make_connection(
        organization,
        Method.GCP_SERVICE_ACCOUNT_KEY,
        {"key_json": service_account_key(google), "bucket": bucket, "api_endpoint": google.storage_endpoint},
    )
    with pytest.raises(StorageError) as excinfo:
        gcp.build_client(connection).authenticate()
    assert excinfo.value.code == "clock_skew"


def test_token_endpoint_outside_google_is_refused(
    organization: Organization, google: GoogleStandIn, bucket: str, settings: Any
) -> None:
    settings.SPACEPORT_GCP_EXTRA_TOKEN_HOSTS = []
    connection = make_connection(
        organization, Method.GCP_SERVICE_ACCOUNT_KEY, {"key_json": service_account_key(google), "bucket": bucket}
    )
    with pytest.raises(StorageError) as excinfo:
        gcp.build_client(connection)
    assert excinfo.value.code == "invalid_config"
    assert google.requests == []


def test_unreachable_storage_and_token_endpoint_are_transient(
    organization: Organization, google: GoogleStandIn, bucket: str, monkeypatch: Any
) -> None:
    monkeypatch.setattr(gcp, "RETRY", gcp.RETRY.with_timeout(1.0))
    closed = f"http://{LOOPBACK}:{free_port()}"
    connection = make_connection(
        organization,
        Method.GCP_SERVICE_ACCOUNT_KEY,
        {"key_json": service_account_key(google), "bucket": bucket, "api_endpoint": closed},
    )
    started = time.monotonic()
    with pytest.raises(StorageError) as excinfo:
        gcp.build_client(connection).get_object(location_for(connection, "raw"), "x.txt")
    assert (excinfo.value.code, excinfo.value.transient) == ("unreachable", True)

    key = service_account_key(google)
    key["token_uri"] = f"{closed}/token"
    connection = make_connection(
        organization,
        Method.GCP_SERVICE_ACCOUNT_KEY,
        {"key_json": key, "bucket": bucket, "api_endpoint": google.storage_endpoint},
    )
    with pytest.raises(StorageError) as excinfo:
        gcp.build_client(connection).authenticate()
    assert (excinfo.value.code, excinfo.value.transient) == ("unreachable", True)
    assert time.monotonic() - started < 20


# --- workload identity federation: no emulator exists for Google's STS ---------------------------


def credential_config(google: GoogleStandIn, token_file: Path, *, impersonate: bool = True) -> dict[str, Any]:
    """What ``gcloud iam workload-identity-pools create-cred-config`` writes, aimed at the stand-in."""
    config: dict[str, Any] = {
        "type": "external_account",
        "audience": POOL_AUDIENCE,
        "subject_token_type": "urn:ietf:params:oauth:token-type:jwt",
        "token_url": f"{google.base}/v1/token",
        "credential_source": {"file": str(token_file)},
    }
    if impersonate:
        config["service_account_impersonation_url"] = (
            f"{google.base}/v1/projects/-/serviceAccounts/{IMPERSONATED}:generateAccessToken"
        )
    return config


def test_workload_identity_exchanges_a_token_minted_for_this_connection(
    organization: Organization, google: GoogleStandIn, bucket: str, tmp_path: Path, settings: Any
) -> None:
    """The subject token is signed by Spaceport for this connection, whatever file the customer's
    configuration names; the stand-in STS records it and the test checks it as Google would."""
    settings.SPACEPORT_OIDC_ISSUER_URL = "https://spaceport.example.com"
    customer_named = tmp_path / "customer-chosen-file"
    customer_named.write_text("local file contents that must never leave Spaceport")
    connection = make_connection(
        organization,
        Method.GCP_WORKLOAD_IDENTITY,
        {
            "credential_config": json.dumps(credential_config(google, customer_named)),
            "bucket": bucket,
            "api_endpoint": google.storage_endpoint,
        },
    )
    client = gcp.build_client(connection)
    assert IMPERSONATED in client.authenticate()
    assert_round_trip(client, location_for(connection, "raw"))

    exchange = [body for path, body, _ in google.requests if path == "/v1/token"]
    assert len(exchange) == 1
    assert exchange[0]["grant_type"] == TOKEN_EXCHANGE
    assert exchange[0]["audience"] == POOL_AUDIENCE
    assert exchange[0]["subject_token_type"] == "urn:ietf:params:oauth:token-type:jwt"
    assert exchange[0]["requested_token_type"] == "urn:ietf:params:oauth:token-type:access_token"
    assert "must never leave" not in json.dumps(google.requests)
    claims = verify_published(exchange[0]["subject_token"], f"https:{POOL_AUDIENCE}")
    assert claims["iss"] == "https://spaceport.example.com"
    assert claims["sub"] == f"organization/acme/connection/{connection.external_id}"
    impersonation = [(body, auth) for path, body, auth in google.requests if path.endswith(":generateAccessToken")]
    assert len(impersonation) == 1
    assert READ_WRITE in impersonation[0][0]["scope"]
    impersonated_token = next(t for t in google.issued if t.startswith("ya29.impersonated-"))
    assert set(google.storage_authorizations) == {f"Bearer {impersonated_token}"}


def test_workload_identity_subjects_differ_between_organizations(
    organization: Organization, owner: Any, google: GoogleStandIn, bucket: str, tmp_path: Path
) -> None:
    """A pool that admits one customer's subject admits no other customer's connection."""
    other = create_organization(name="globex", owner=owner)
    values = {"credential_config": credential_config(google, tmp_path / "t"), "bucket": bucket}
    for owner_organization in (organization, other):
        client = gcp.build_client(make_connection(owner_organization, Method.GCP_WORKLOAD_IDENTITY, values))
        client.authenticate()
    subjects = [verify_published(body["subject_token"], f"https:{POOL_AUDIENCE}")["sub"] for body in _exchanges(google)]
    assert [subject.split("/connection/")[0] for subject in subjects] == ["organization/acme", "organization/globex"]
    assert subjects[0] != subjects[1]


def _exchanges(google: GoogleStandIn) -> list[dict[str, Any]]:
    return [body for path, body, _ in google.requests if path == "/v1/token"]


def test_workload_identity_with_the_operators_shared_token(
    organization: Organization, google: GoogleStandIn, bucket: str, tmp_path: Path, settings: Any
) -> None:
    """The opt-in external source: the operator's token file, the same for every organization."""
    subject_token = "eyJhbGciOiJSUzI1NiJ9.spaceport-identity." + secrets.token_urlsafe(16)
    token_file = tmp_path / "spaceport-token.jwt"
    token_file.write_text(subject_token)
    settings.SPACEPORT_WEB_IDENTITY_SOURCE = "external"
    settings.SPACEPORT_WEB_IDENTITY_TOKEN_FILE = str(token_file)
    connection = make_connection(
        organization,
        Method.GCP_WORKLOAD_IDENTITY,
        {"credential_config": credential_config(google, tmp_path / "other"), "bucket": bucket},
    )
    gcp.build_client(connection).authenticate()
    assert _exchanges(google)[0]["subject_token"] == subject_token


def test_aws_type_configuration_is_refused(google: GoogleStandIn, tmp_path: Path) -> None:
    """It would trade Spaceport's own AWS identity, which every organization shares."""
    document = credential_config(google, tmp_path / "t")
    document["subject_token_type"] = "urn:ietf:params:aws:token-type:aws4_request"
    document["credential_source"] = {"environment_id": "aws1", "url": "http://169.254.169.254/latest/meta-data"}
    with pytest.raises(ConnectionInputError) as raised:
        clean_input(Method.GCP_WORKLOAD_IDENTITY, {"credential_config": document, "bucket": "b-1-x"})
    assert "AWS identity" in raised.value.errors["credential_config"]


def test_workload_identity_refused_by_the_pool(
    organization: Organization, google: GoogleStandIn, bucket: str, tmp_path: Path, settings: Any
) -> None:
    google.pool_refuses = True
    token_file = tmp_path / "token.jwt"
    token_file.write_text("eyJhbGciOiJSUzI1NiJ9.other.sig")
    settings.SPACEPORT_WEB_IDENTITY_TOKEN_FILE = str(token_file)
    connection = make_connection(
        organization,
        Method.GCP_WORKLOAD_IDENTITY,
        {
            "credential_config": credential_config(google, token_file, impersonate=False),
            "bucket": bucket,
            "api_endpoint": google.storage_endpoint,
        },
    )
    with pytest.raises(StorageError) as excinfo:
        gcp.build_client(connection).put_object(location_for(connection, "raw"), "x.txt", b"x")
    assert excinfo.value.code == "invalid_credentials"
    assert "attribute condition" in excinfo.value.hint
    assert google.storage_authorizations == []


def test_workload_identity_never_runs_programs(
    organization: Organization, google: GoogleStandIn, bucket: str, tmp_path: Path, settings: Any
) -> None:
    """An executable source in the customer's file is ignored like any other: Spaceport's token is used."""
    token_file = tmp_path / "token.jwt"
    token_file.write_text("eyJhbGciOiJSUzI1NiJ9.spaceport.sig")
    settings.SPACEPORT_WEB_IDENTITY_SOURCE = "external"
    settings.SPACEPORT_WEB_IDENTITY_TOKEN_FILE = str(token_file)
    marker = tmp_path / "ran"
    config = credential_config(google, tmp_path / "unused")
    config["credential_source"] = {"executable": {"command": f"/usr/bin/touch {marker}", "timeout_millis": 5000}}
    connection = make_connection(
        organization,
        Method.GCP_WORKLOAD_IDENTITY,
        {"credential_config": config, "bucket": bucket, "api_endpoint": google.storage_endpoint},
    )
    client = gcp.build_client(connection)
    client.put_object(location_for(connection, "raw"), "x.txt", b"x")
    assert not marker.exists()
    exchange = [body for path, body, _ in google.requests if path == "/v1/token"]
    assert exchange[-1]["subject_token"] == "eyJhbGciOiJSUzI1NiJ9.spaceport.sig"


def test_workload_identity_without_a_spaceport_identity_says_so(
    organization: Organization, google: GoogleStandIn, bucket: str, tmp_path: Path, settings: Any
) -> None:
    settings.SPACEPORT_WEB_IDENTITY_SOURCE = "external"
    settings.SPACEPORT_WEB_IDENTITY_TOKEN_FILE = ""
    settings.SPACEPORT_WEB_IDENTITY_TOKEN_URL = ""
    connection = make_connection(
        organization,
        Method.GCP_WORKLOAD_IDENTITY,
        {"credential_config": credential_config(google, tmp_path / "t"), "bucket": bucket},
    )
    with pytest.raises(StorageError) as excinfo:
        gcp.build_client(connection)
    assert excinfo.value.code == "not_configured"


# --- direct IAM binding: a service account per organization -------------------------------------
# No emulator exists for Google's IAM and IAM Credentials APIs: the stand-in above creates accounts,
# impersonates them for Spaceport's own token only, and its storage proxy enforces buckets' grants.


@pytest.fixture
def spaceport_identity(google: GoogleStandIn, tmp_path: Path, settings: Any) -> str:
    """Spaceport's own service-account key, and Google's IAM APIs at the stand-in."""
    own_key = service_account_key(google, email="portal@spaceport-prod.iam.gserviceaccount.com")
    key_file = tmp_path / "spaceport-sa.json"
    key_file.write_text(json.dumps(own_key))
    settings.SPACEPORT_GCP_CREDENTIALS_FILE = str(key_file)
    settings.SPACEPORT_GCP_PROJECT = "spaceport-prod"
    settings.SPACEPORT_GCP_IAM_URL = google.base
    settings.SPACEPORT_GCP_IAM_CREDENTIALS_URL = google.base
    return str(own_key["client_email"])


def direct_connection(organization: Organization, google: GoogleStandIn, bucket: str) -> CloudConnection:
    return make_connection(
        organization, Method.GCP_DIRECT_IAM, {"bucket": bucket, "api_endpoint": google.storage_endpoint}
    )


def test_direct_iam_acts_as_the_organizations_own_account(
    organization: Organization, owner: Any, google: GoogleStandIn, spaceport_identity: str, gcs_emulator: GcsEmulator
) -> None:
    other = create_organization(name="globex", owner=owner)
    ours, theirs = f"acme-{uuid.uuid4().hex[:8]}", f"globex-{uuid.uuid4().hex[:8]}"
    for name in (ours, theirs):
        gcs_emulator.client().create_bucket(name)
    acme_account = organization_service_account(organization)
    globex_account = organization_service_account(other)
    google.bucket_grants = {ours: {acme_account}, theirs: {globex_account}}

    connection = direct_connection(organization, google, ours)
    assert connection.secret in ({}, None)
    client = gcp.build_client(connection)
    assert acme_account in client.authenticate()
    assert_round_trip(client, location_for(connection, "raw"))

    assert acme_account.startswith("sp-acme-") and globex_account.startswith("sp-globex-")
    assert acme_account.endswith("@spaceport-prod.iam.gserviceaccount.com")
    created = [(body, auth) for path, body, auth in google.requests if path.endswith("/serviceAccounts")]
    assert [body["accountId"] for body, _ in created] == [a.split("@")[0] for a in (acme_account, globex_account)]
    own_tokens = {f"Bearer {t}" for t in google.issued if t.startswith("ya29.sa-")}
    assert {auth for _, auth in created} <= own_tokens
    impersonations = [path for path, _, _ in google.requests if path.endswith(":generateAccessToken")]
    assert impersonations == [f"/v1/projects/-/serviceAccounts/{acme_account}:generateAccessToken"]
    assert {google.token_owner.get(a.removeprefix("Bearer ")) for a in google.storage_authorizations} == {acme_account}
    assert organization_service_account(organization) == acme_account
    assert len(created) == 2


def test_an_organization_cannot_validate_against_anothers_grant(
    organization: Organization, owner: Any, google: GoogleStandIn, spaceport_identity: str, bucket: str
) -> None:
    """The hole this closes: globex names acme's bucket; Spaceport acts as globex's own account there,
    which acme never granted."""
    google.bucket_grants = {bucket: {organization_service_account(organization)}}
    assert validate(direct_connection(organization, google, bucket))[0] == "valid"
    intruder = direct_connection(create_organization(name="globex", owner=owner), google, bucket)

    status, _ = validate(intruder)

    intruder.refresh_from_db()
    assert status == "invalid"
    globex_account = organization_service_account(intruder.organization)
    assert globex_account in intruder.status_message
    assert spaceport_identity not in {
        google.token_owner.get(a.removeprefix("Bearer ")) for a in google.storage_authorizations
    }


def test_direct_iam_takes_accounts_from_the_pool_and_never_reuses_one(
    owner: Any, google: GoogleStandIn, spaceport_identity: str, settings: Any
) -> None:
    pool = [f"pool-{n}@spaceport-prod.iam.gserviceaccount.com" for n in (1, 2)]
    settings.SPACEPORT_GCP_SERVICE_ACCOUNT_POOL = pool
    first = create_organization(name="first", owner=owner)
    second = create_organization(name="second", owner=owner)
    assert [organization_service_account(first), organization_service_account(second)] == pool
    second.delete()
    with pytest.raises(StorageError) as raised:
        organization_service_account(create_organization(name="third", owner=owner))
    assert raised.value.code == "not_configured"
    assert "SPACEPORT_GCP_SERVICE_ACCOUNT_POOL" in raised.value.hint
    assert not [path for path, _, _ in google.requests if path.endswith("/serviceAccounts")]


def test_direct_iam_without_a_project_or_pool_says_so(
    organization: Organization, google: GoogleStandIn, spaceport_identity: str, bucket: str, settings: Any
) -> None:
    settings.SPACEPORT_GCP_PROJECT = ""
    with pytest.raises(StorageError) as raised:
        gcp.build_client(direct_connection(organization, google, bucket))
    assert raised.value.code == "not_configured"
    assert "SPACEPORT_GCP_PROJECT" in raised.value.hint


def test_impersonation_refused_is_explained(
    organization: Organization, google: GoogleStandIn, spaceport_identity: str, bucket: str, settings: Any
) -> None:
    settings.SPACEPORT_GCP_SERVICE_ACCOUNT_POOL = ["never-created@spaceport-prod.iam.gserviceaccount.com"]
    with pytest.raises(StorageError) as raised:
        gcp.build_client(direct_connection(organization, google, bucket)).authenticate()
    assert raised.value.code == "invalid_credentials"
    assert "serviceAccountTokenCreator" in raised.value.hint
    assert google.storage_authorizations == []


# --- Spaceport's Google tokens go to Google only -------------------------------------------------


@pytest.fixture
def listener() -> Iterator[tuple[str, list[dict[str, str]]]]:
    """A host an organization admin might name: records every request that reaches it."""
    received: list[dict[str, str]] = []

    class Recorder(http.server.BaseHTTPRequestHandler):
        def _record(self) -> None:
            received.append(dict(self.headers.items()))
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        do_GET = do_POST = do_PUT = do_DELETE = _record

        def log_message(self, format: str, *args: Any) -> None:
            pass

    with serve(Recorder) as url:
        # The same listener under a name the operator did not allow (the stand-ins' 127.0.0.1 is allowed).
        yield url.replace(LOOPBACK, "localhost"), received


@pytest.mark.parametrize("method", [Method.GCP_DIRECT_IAM, Method.GCP_WORKLOAD_IDENTITY])
def test_api_endpoint_outside_google_is_refused_at_input(
    method: str, google: GoogleStandIn, tmp_path: Path, listener: tuple[str, list[dict[str, str]]]
) -> None:
    url, received = listener
    values: dict[str, Any] = {"bucket": "customer-bucket", "api_endpoint": url}
    if method == Method.GCP_WORKLOAD_IDENTITY:
        values["credential_config"] = credential_config(google, tmp_path / "t")
    with pytest.raises(ConnectionInputError) as raised:
        clean_input(method, values)
    assert set(raised.value.errors) == {"api_endpoint"}
    assert "googleapis.com" in raised.value.errors["api_endpoint"]
    values["api_endpoint"] = "https://storage-spaceport.p.googleapis.com"
    assert clean_input(method, values)[0]["api_endpoint"] == "https://storage-spaceport.p.googleapis.com"
    assert received == []


def test_stored_api_endpoint_outside_google_gets_no_token(
    organization: Organization,
    google: GoogleStandIn,
    bucket: str,
    tmp_path: Path,
    listener: tuple[str, list[dict[str, str]]],
) -> None:
    """A connection stored before the check (or written around it) is refused again when its client is built."""
    url, received = listener
    connection = make_connection(
        organization,
        Method.GCP_WORKLOAD_IDENTITY,
        {"credential_config": credential_config(google, tmp_path / "t"), "bucket": bucket},
    )
    CloudConnection.objects.filter(pk=connection.pk).update(config={**connection.config, "api_endpoint": url})
    connection.refresh_from_db()
    forget_clients()

    status, _ = validate(connection)

    connection.refresh_from_db()
    assert status == "invalid"
    assert "not Google's" in connection.status_message
    assert received == []
    assert google.requests == []
