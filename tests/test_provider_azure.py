"""The Azure provider against Azurite: connection strings, service principals, and what errors say.

Azurite checks account-key signatures, so a wrong key fails for real. It accepts Entra ID bearer
tokens only with ``--oauth basic`` over HTTPS, where it checks a token's lifetime, issuer and
audience (not its signature); the service-principal tests therefore run a second Azurite with a
self-signed certificate, and a small Entra-like token endpoint written for these tests. No
emulator checks RBAC role assignments or the request date, so those answers come from a loopback
server replaying Azure's documented error responses.
"""

from __future__ import annotations

import http.client
import http.server
import ipaddress
import json
import secrets
import ssl
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from azure.storage.blob import BlobServiceClient
from cryptography import x509

from connections.methods import Method, Provider, clean_input
from connections.models import CloudConnection
from connections.providers.azure.client import AzureBlobClient, build_client
from connections.providers.base import Location, StorageError
from connections.providers.registry import client_for, forget_clients, location_for
from portal.tenancy.models import Organization
from tests.certificates import self_signed
from tests.emulators import AZURITE_ACCOUNT, AZURITE_KEY, LOOPBACK, REPO, Azurite, Process, free_port
from tests.loopback import recording_listener
from tests.storage_contract import assert_round_trip

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
CLIENT_ID = "0d5c6e4a-3f5e-4a3b-9c1e-8c7b5a2d1e0f"
CLIENT_SECRET = "sp-secret-" + secrets.token_urlsafe(16)
WRONG_KEY = "V3JvbmdLZXlXcm9uZ0tleVdyb25nS2V5V3JvbmdLZXlXcm9uZ0tleVdyb25nS2V5V3JvbmdLZXk="


def make_connection(organization: Organization, method: str, values: dict[str, Any]) -> CloudConnection:
    config, secret = clean_input(method, values)
    return CloudConnection.objects.create(
        organization=organization,
        name=f"azure-{uuid.uuid4().hex[:8]}",
        provider=Provider.AZURE,
        method=method,
        config=config,
        secret=secret,
    )


def connection_string(blob_endpoint: str, key: str = AZURITE_KEY) -> str:
    protocol = urlsplit(blob_endpoint).scheme
    return (
        f"DefaultEndpointsProtocol={protocol};AccountName={AZURITE_ACCOUNT};AccountKey={key};"
        f"BlobEndpoint={blob_endpoint};"
    )


def new_space_name() -> str:
    return f"space-{uuid.uuid4().hex[:12]}"


def assert_no_secret(error: StorageError, *secret_values: str) -> None:
    for value in secret_values:
        assert value not in error.message
        assert value not in error.hint
        assert value not in str(error)


# --- connection string against the plain Azurite -------------------------------------------------


@pytest.fixture
def key_connection(organization: Organization, azurite: Azurite) -> CloudConnection:
    return make_connection(
        organization, Method.AZURE_CONNECTION_STRING, {"connection_string": azurite.connection_string}
    )


def test_connection_string_round_trip(key_connection: CloudConnection, azurite: Azurite) -> None:
    space = new_space_name()
    BlobServiceClient.from_connection_string(azurite.connection_string).create_container(space)
    client = client_for(key_connection)
    assert isinstance(client, AzureBlobClient)
    location = location_for(key_connection, space)
    assert location == Location(bucket=space)
    assert "devstoreaccount1" in client.authenticate()

    assert_round_trip(client, location)


def test_listing_follows_pages(key_connection: CloudConnection, azurite: Azurite, monkeypatch: Any) -> None:
    """Three pages of two blobs each, so a listing that stopped after the first page would fail."""
    monkeypatch.setattr("connections.providers.azure.client.PAGE_SIZE", 2)
    space = new_space_name()
    BlobServiceClient.from_connection_string(azurite.connection_string).create_container(space)
    client = build_client(key_connection)
    location = location_for(key_connection, space)
    keys = {f"page/{n}.txt" for n in range(6)}
    for key in keys:
        client.put_object(location, key, b"x")
    assert {item.key for item in client.list_objects(location)} == keys
    assert len(list(client.list_objects(location, limit=5))) == 5


def test_missing_container_says_which_and_how_to_fix(key_connection: CloudConnection) -> None:
    client = build_client(key_connection)
    location = location_for(key_connection, "no-such-space")
    with pytest.raises(StorageError) as excinfo:
        client.put_object(location, "x.txt", b"x")
    assert excinfo.value.code == "no_such_container"
    assert excinfo.value.hint.startswith(
        f"Create it in the storage account: az storage container create --account-name {AZURITE_ACCOUNT} "
        "--name no-such-space --auth-mode login"
    )
    assert not excinfo.value.transient
    with pytest.raises(StorageError) as excinfo:
        list(client.list_objects(location))
    assert excinfo.value.code == "no_such_container"


def test_wrong_account_key_is_invalid_credentials(organization: Organization, azurite: Azurite) -> None:
    BlobServiceClient.from_connection_string(azurite.connection_string).create_container("wrong-key-space")
    connection = make_connection(
        organization,
        Method.AZURE_CONNECTION_STRING,
        {"connection_string": connection_string(azurite.blob_endpoint, WRONG_KEY)},
    )
    client = build_client(connection)
    with pytest.raises(StorageError) as excinfo:
        client.put_object(location_for(connection, "wrong-key-space"), "x.txt", b"x")
    assert excinfo.value.code == "invalid_credentials"
    assert "rotated" in excinfo.value.hint
    assert not excinfo.value.transient
    assert_no_secret(excinfo.value, WRONG_KEY, AZURITE_KEY)


def test_closed_port_is_unreachable_and_transient(organization: Organization) -> None:
    endpoint = f"http://{LOOPBACK}:{free_port()}/{AZURITE_ACCOUNT}"
    connection = make_connection(
        organization, Method.AZURE_CONNECTION_STRING, {"connection_string": connection_string(endpoint)}
    )
    started = time.monotonic()
    with pytest.raises(StorageError) as excinfo:
        build_client(connection).get_object(Location("anything"), "x.txt")
    assert excinfo.value.code == "unreachable"
    assert excinfo.value.transient
    assert LOOPBACK in excinfo.value.message
    assert time.monotonic() - started < 15
    assert_no_secret(excinfo.value, AZURITE_KEY)


# --- answers no emulator gives: a loopback server replays Azure's error responses -----------------


@dataclass
class CannedAzure:
    """Answers every request with one fixed Azure error, as the real service documents it."""

    status: int = 403
    code: str = "AuthenticationFailed"
    detail: str = ""
    requests: list[str] = field(default_factory=list)


@pytest.fixture
def canned_azure() -> Iterator[tuple[CannedAzure, str]]:
    canned = CannedAzure()

    class Handler(http.server.BaseHTTPRequestHandler):
        def _answer(self) -> None:
            canned.requests.append(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            body = (
                '<?xml version="1.0" encoding="utf-8"?><Error>'
                f"<Code>{canned.code}</Code><Message>Refused.\nRequestId:1\nTime:now</Message>"
                f"<AuthenticationErrorDetail>{canned.detail}</AuthenticationErrorDetail></Error>"
            ).encode()
            self.send_response(canned.status)
            self.send_header("x-ms-error-code", canned.code)
            self.send_header("Content-Type", "application/xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_PUT = do_DELETE = do_HEAD = _answer

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer((LOOPBACK, 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield canned, f"http://{LOOPBACK}:{server.server_address[1]}/{AZURITE_ACCOUNT}"
    finally:
        server.shutdown()
        server.server_close()


def test_request_date_too_old_is_clock_skew(organization: Organization, canned_azure: tuple[CannedAzure, str]) -> None:
    canned, endpoint = canned_azure
    canned.detail = "Request date header too old: 'Mon, 01 Jan 2024 10:00:00 GMT'"
    connection = make_connection(
        organization, Method.AZURE_CONNECTION_STRING, {"connection_string": connection_string(endpoint)}
    )
    with pytest.raises(StorageError) as excinfo:
        build_client(connection).put_object(Location("space"), "x.txt", b"x")
    assert canned.requests
    assert excinfo.value.code == "clock_skew"
    assert "clock" in excinfo.value.hint.lower()


def test_missing_role_is_access_denied(organization: Organization, canned_azure: tuple[CannedAzure, str]) -> None:
    canned, endpoint = canned_azure
    canned.code = "AuthorizationPermissionMismatch"
    connection = make_connection(
        organization, Method.AZURE_CONNECTION_STRING, {"connection_string": connection_string(endpoint)}
    )
    with pytest.raises(StorageError) as excinfo:
        build_client(connection).get_object(Location("space"), "x.txt")
    assert excinfo.value.code == "access_denied"
    assert "AuthorizationPermissionMismatch" in excinfo.value.message


# --- service principal: Azurite with --oauth basic over HTTPS, and a test token endpoint ----------


@dataclass
class Tls:
    cert: Path
    key: Path

    def context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert, self.key)
        return context


def self_signed_tls(directory: Path) -> Tls:
    """A certificate for 127.0.0.1 that the clients trust through REQUESTS_CA_BUNDLE."""
    return Tls(*self_signed(directory))


@dataclass
class OAuthAzurite:
    blob_endpoint: str
    tls: Tls
    process: Process

    def key_client(self) -> BlobServiceClient:
        return BlobServiceClient.from_connection_string(
            connection_string(self.blob_endpoint), connection_verify=str(self.tls.cert)
        )


def answers_https(port: int, tls: Tls) -> bool:
    context = ssl.create_default_context(cafile=str(tls.cert))
    connection = http.client.HTTPSConnection(LOOPBACK, port, timeout=2, context=context)
    try:
        connection.request("GET", "/")
        connection.getresponse().read()
    except (OSError, http.client.HTTPException):
        return False
    finally:
        connection.close()
    return True


@pytest.fixture(scope="module")
def oauth_azurite(tmp_path_factory: Any) -> Iterator[OAuthAzurite]:
    workdir = tmp_path_factory.mktemp("azurite-oauth")
    tls = self_signed_tls(workdir)
    program = REPO / "node_modules" / ".bin" / "azurite-blob"
    if not program.exists():
        pytest.fail(f"Azurite is not installed at {program}; run scripts/install-test-tools.", pytrace=False)
    port = free_port()
    argv = [str(program), "--blobHost", LOOPBACK, "--blobPort", str(port), "--location", str(workdir / "data")]
    argv += ["--skipApiVersionCheck", "--loose", "--oauth", "basic", "--cert", str(tls.cert), "--key", str(tls.key)]
    log = workdir / "azurite.log"
    with log.open("wb") as log_file:
        popen = subprocess.Popen(argv, stdout=log_file, stderr=subprocess.STDOUT, cwd=workdir, start_new_session=True)
    process = Process("azurite-oauth", popen, log, grace=2.0)
    deadline = time.monotonic() + 60
    while not answers_https(port, tls):
        if popen.poll() is not None or time.monotonic() > deadline:
            process.stop()
            pytest.fail(f"Azurite with --oauth basic did not start:\n{process.log_tail()}", pytrace=False)
        time.sleep(0.1)
    try:
        yield OAuthAzurite(f"https://{LOOPBACK}:{port}/{AZURITE_ACCOUNT}", tls, process)
    finally:
        process.stop()


@dataclass
class EntraStandIn:
    """An Entra ID token endpoint for one app: it checks the client secret or certificate assertion."""

    authority: str
    certificate_pem: bytes = b""
    audience: str = "https://storage.azure.com"
    token_requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    lifetime: int = 3600

    def issue(self) -> dict[str, Any]:
        now = int(time.time())
        claims = {
            "aud": self.audience,
            "iss": f"https://sts.windows.net/{TENANT}/",
            "iat": now,
            "nbf": now - 60,
            "exp": now + self.lifetime,
            "tid": TENANT,
            "appid": CLIENT_ID,
            "oid": str(uuid.uuid4()),
        }
        token = jwt.encode(claims, secrets.token_bytes(32), algorithm="HS256")
        return {
            "token_type": "Bearer",
            "expires_in": self.lifetime,
            "ext_expires_in": self.lifetime,
            "access_token": token,
        }

    def client_authenticated(self, form: dict[str, str]) -> bool:
        if form.get("client_id") != CLIENT_ID:
            return False
        if "client_secret" in form:
            return form["client_secret"] == CLIENT_SECRET
        if form.get("client_assertion_type") == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer":
            public_key = x509.load_pem_x509_certificate(self.certificate_pem).public_key()
            try:
                claims = jwt.decode(
                    form["client_assertion"],
                    public_key,  # type: ignore[arg-type]
                    algorithms=["RS256", "PS256"],
                    audience=f"{self.authority}/{TENANT}/oauth2/v2.0/token",
                )
            except jwt.InvalidTokenError:
                return False
            return bool(claims.get("iss") == CLIENT_ID and claims.get("sub") == CLIENT_ID)
        return False


def allow_authority(settings: Any, authority: str) -> None:
    """Secrets only go to the authorities the operator lists; the stand-in is listed like any other."""
    settings.SPACEPORT_AZURE_AUTHORITY_HOSTS = [*settings.SPACEPORT_AZURE_AUTHORITY_HOSTS, authority]


@pytest.fixture
def entra(oauth_azurite: OAuthAzurite, settings: Any) -> Iterator[EntraStandIn]:
    port = free_port()
    stand_in = EntraStandIn(authority=f"https://{LOOPBACK}:{port}")
    allow_authority(settings, stand_in.authority)

    class Handler(http.server.BaseHTTPRequestHandler):
        def _json(self, status: int, body: dict[str, Any]) -> None:
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def do_GET(self) -> None:
            tenant = self.path.strip("/").split("/")[0]
            if self.path.endswith("/.well-known/openid-configuration"):
                base = f"{stand_in.authority}/{tenant}"
                self._json(
                    200,
                    {
                        "token_endpoint": f"{base}/oauth2/v2.0/token",
                        "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                        "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
                        "issuer": f"{base}/v2.0",
                    },
                )
            else:
                self._json(404, {"error": "not_found"})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            stand_in.token_requests.append((self.path, form))
            if self.path != f"/{TENANT}/oauth2/v2.0/token":
                self._json(400, {"error": "invalid_request", "error_description": "AADSTS90002: Tenant not found."})
            elif not stand_in.client_authenticated(form):
                self._json(
                    401,
                    {
                        "error": "invalid_client",
                        "error_description": "AADSTS7000215: Invalid client secret provided.",
                        "error_codes": [7000215],
                    },
                )
            else:
                self._json(200, stand_in.issue())

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer((LOOPBACK, port), Handler)
    server.socket = oauth_azurite.tls.context().wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield stand_in
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def trust_test_certificate(oauth_azurite: OAuthAzurite, monkeypatch: Any) -> None:
    """Both azure-identity and the blob client verify TLS through requests, which reads this variable."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(oauth_azurite.tls.cert))


def service_principal(
    organization: Organization, oauth_azurite: OAuthAzurite, entra: EntraStandIn, **secret: str
) -> CloudConnection:
    values = {
        "tenant_id": TENANT,
        "client_id": CLIENT_ID,
        "account_url": oauth_azurite.blob_endpoint,
        "authority_host": entra.authority,
        **secret,
    }
    return make_connection(organization, Method.AZURE_SERVICE_PRINCIPAL, values)


@pytest.mark.usefixtures("trust_test_certificate")
def test_service_principal_round_trip_with_one_cached_token(
    organization: Organization, oauth_azurite: OAuthAzurite, entra: EntraStandIn
) -> None:
    space = new_space_name()
    oauth_azurite.key_client().create_container(space)
    connection = service_principal(organization, oauth_azurite, entra, client_secret=CLIENT_SECRET)
    client = build_client(connection)

    assert CLIENT_ID in client.authenticate()
    location = location_for(connection, space)
    client.put_object(location, "nested/dir/a.txt", b"via entra")
    assert client.get_object(location, "nested/dir/a.txt") == b"via entra"
    assert [item.key for item in client.list_objects(location)] == ["nested/dir/a.txt"]
    client.delete_object(location, "nested/dir/a.txt")
    assert list(client.list_objects(location)) == []

    assert len(entra.token_requests) == 1
    path, form = entra.token_requests[0]
    assert path == f"/{TENANT}/oauth2/v2.0/token"
    assert form["grant_type"] == "client_credentials"
    assert form["client_id"] == CLIENT_ID
    assert form["client_secret"] == CLIENT_SECRET
    assert form["scope"] == "https://storage.azure.com/.default"


@pytest.mark.usefixtures("trust_test_certificate")
def test_service_principal_with_certificate(
    organization: Organization, oauth_azurite: OAuthAzurite, entra: EntraStandIn
) -> None:
    pem = oauth_azurite.tls.cert.read_bytes()
    entra.certificate_pem = pem
    space = new_space_name()
    oauth_azurite.key_client().create_container(space)
    bundle = (pem + oauth_azurite.tls.key.read_bytes()).decode()
    connection = service_principal(organization, oauth_azurite, entra, certificate=bundle)
    client = build_client(connection)
    client.put_object(location_for(connection, space), "cert.txt", b"signed assertion")
    assert client.get_object(location_for(connection, space), "cert.txt") == b"signed assertion"
    _, form = entra.token_requests[-1]
    assert "client_secret" not in form
    assert form["client_assertion_type"] == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


@pytest.mark.usefixtures("trust_test_certificate")
def test_wrong_client_secret_names_the_app_not_the_secret(
    organization: Organization, oauth_azurite: OAuthAzurite, entra: EntraStandIn
) -> None:
    wrong = "not-the-secret-" + secrets.token_urlsafe(8)
    connection = service_principal(organization, oauth_azurite, entra, client_secret=wrong)
    client = build_client(connection)
    with pytest.raises(StorageError) as excinfo:
        client.authenticate()
    assert excinfo.value.code == "invalid_credentials"
    assert CLIENT_ID in excinfo.value.message
    assert TENANT in excinfo.value.message
    assert_no_secret(excinfo.value, wrong)
    with pytest.raises(StorageError) as excinfo:
        client.put_object(location_for(connection, "any-space"), "x.txt", b"x")
    assert excinfo.value.code == "invalid_credentials"
    assert_no_secret(excinfo.value, wrong)
    assert len(entra.token_requests) == 2, "a refused secret is not retried like a network error"


@pytest.mark.usefixtures("trust_test_certificate")
def test_azurite_refuses_a_token_for_another_audience(
    organization: Organization, oauth_azurite: OAuthAzurite, entra: EntraStandIn
) -> None:
    """Shows the bearer token really reaches Azurite and is checked there."""
    space = new_space_name()
    oauth_azurite.key_client().create_container(space)
    entra.audience = "https://vault.azure.net"
    connection = service_principal(organization, oauth_azurite, entra, client_secret=CLIENT_SECRET)
    with pytest.raises(StorageError) as excinfo:
        build_client(connection).put_object(location_for(connection, space), "x.txt", b"x")
    assert excinfo.value.code == "invalid_credentials"
    assert TENANT in excinfo.value.hint


def test_registry_builds_this_module(key_connection: CloudConnection) -> None:
    forget_clients()
    assert isinstance(client_for(key_connection), AzureBlobClient)


def test_bad_signature_from_azure_is_invalid_credentials(
    organization: Organization, canned_azure: tuple[CannedAzure, str]
) -> None:
    """Azure itself answers AuthenticationFailed for a wrong key (Azurite says AuthorizationFailure)."""
    canned, endpoint = canned_azure
    canned.detail = "The MAC signature found in the HTTP request is not the same as any computed signature."
    connection = make_connection(
        organization, Method.AZURE_CONNECTION_STRING, {"connection_string": connection_string(endpoint)}
    )
    with pytest.raises(StorageError) as excinfo:
        list(build_client(connection).list_objects(Location("space")))
    assert excinfo.value.code == "invalid_credentials"
    assert "rotated" in excinfo.value.hint


def test_unreachable_entra_is_transient(organization: Organization, settings: Any) -> None:
    closed = f"https://{LOOPBACK}:{free_port()}"
    allow_authority(settings, closed)
    connection = make_connection(
        organization,
        Method.AZURE_SERVICE_PRINCIPAL,
        {
            "tenant_id": TENANT,
            "client_id": CLIENT_ID,
            "account_url": f"{closed}/{AZURITE_ACCOUNT}",
            "authority_host": closed,
            "client_secret": CLIENT_SECRET,
        },
    )
    with pytest.raises(StorageError) as excinfo:
        build_client(connection).put_object(Location("space"), "x.txt", b"x")
    assert (excinfo.value.code, excinfo.value.transient) == ("unreachable", True)
    assert "Entra ID" in excinfo.value.message
    assert_no_secret(excinfo.value, CLIENT_SECRET)


# --- the outbound address policy (the attack listener on 127.0.0.2; the stand-ins stay allowed) ---


@pytest.mark.usefixtures("trust_test_certificate")
def test_a_service_principals_inward_account_url_reaches_nothing(
    organization: Organization, oauth_azurite: OAuthAzurite, entra: EntraStandIn, settings: Any
) -> None:
    with recording_listener("127.0.0.2") as listener:
        values = {"tenant_id": TENANT, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
        inward = f"https://{listener.host}:{listener.port}/{AZURITE_ACCOUNT}"
        values |= {"account_url": inward, "authority_host": entra.authority}
        client = build_client(make_connection(organization, Method.AZURE_SERVICE_PRINCIPAL, values))
        settings.SPACEPORT_ALLOWED_PRIVATE_NETWORKS = [ipaddress.ip_network("127.0.0.1/32")]
        assert CLIENT_ID in client.authenticate(), "the token still comes from the allowed stand-in"
        with pytest.raises(StorageError) as refused:
            client.put_object(Location("raw"), "probe.txt", b"x")
        assert refused.value.code == "address_refused"
        assert listener.connections == 0

        settings.SPACEPORT_ALLOWED_PRIVATE_NETWORKS = [ipaddress.ip_network("127.0.0.0/8")]
        with pytest.raises(StorageError):
            client.put_object(Location("raw"), "probe.txt", b"x")
        assert listener.connections > 0, "with the operator's allowance the same client does connect"


def test_a_service_principals_inward_authority_gets_no_client_secret(organization: Organization, settings: Any) -> None:
    """Even an authority the operator listed passes the address policy when it is connected to."""
    with recording_listener("127.0.0.2") as listener:
        authority = f"https://{listener.host}:{listener.port}"
        settings.SPACEPORT_AZURE_AUTHORITY_HOSTS = [*settings.SPACEPORT_AZURE_AUTHORITY_HOSTS, authority]
        values = {"tenant_id": TENANT, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
        values |= {"account_url": "https://acmedata.blob.core.windows.net", "authority_host": authority}
        client = build_client(make_connection(organization, Method.AZURE_SERVICE_PRINCIPAL, values))
        settings.SPACEPORT_ALLOWED_PRIVATE_NETWORKS = [ipaddress.ip_network("127.0.0.1/32")]
        try:
            client.authenticate()
        except Exception as exc:
            error = client.explain(exc)
        assert error.code == "address_refused", error.message
        assert listener.connections == 0
