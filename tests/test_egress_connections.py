"""The outbound address policy where connections are made: a stored endpoint that points inward
(saved before the policy, edited in the database, or a name whose DNS answer changed) reaches
nothing, for every provider's client, the direct-copy path, IBM's token exchange and webhooks.

The attack's target is a recording loopback listener. Each case also runs once with the
operator's allowance in place, which shows the same client does reach the listener: the refusal
is the policy's, not a broken setup. No DNS server runs here, so the rebinding cases replace the
resolver for the one name they use (a mock standing in for DNS).
"""

from __future__ import annotations

import http.server
import ipaddress
import json
import secrets
import ssl
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from botocore.credentials import Credentials

from commits.models import WebhookDelivery
from commits.webhooks import configure, deliver
from connections import egress
from connections.egress_http import GuardedHTTPSConnection, guarded_session
from connections.methods import Method, clean_input, spec_for
from connections.models import CloudConnection
from connections.providers.azure.signin import service_principal_credential
from connections.providers.base import StorageError
from connections.providers.ibm.client import IamTokens
from connections.providers.registry import client_for, validation_location
from connections.providers.s3.direct import DirectCopy
from portal.tenancy.models import Organization
from tests.certificates import self_signed
from tests.connection_inputs import VALID_INPUTS, service_account_key
from tests.emulators import LOOPBACK
from tests.loopback import Call, RecordingListener, json_endpoint, recording_listener, serve
from tests.resolver import resolving

LOOPBACK_ONLY = [ipaddress.ip_network("127.0.0.0/8")]
FIRST_LOOPBACK_ONLY = [ipaddress.ip_network("127.0.0.1/32")]


@pytest.fixture
def listener() -> Iterator[RecordingListener]:
    with recording_listener() as running:
        yield running


def stored(organization: Organization, method: str, values: dict[str, Any]) -> CloudConnection:
    """A connection saved while the operator allowed loopback (the tests' default)."""
    config, secret = clean_input(method, {**VALID_INPUTS[method], **values})
    return CloudConnection.objects.create(
        organization=organization,
        name=f"c-{secrets.token_hex(3)}",
        provider=spec_for(method).provider,
        method=method,
        config=config,
        secret=secret,
    )


def list_through(connection: CloudConnection) -> StorageError:
    """List the validation prefix, as validation does first; the error the client explains."""
    client = client_for(connection)
    try:
        list(client.list_objects(validation_location(connection), limit=1))
    except Exception as exc:
        return client.explain(exc)
    raise AssertionError("listing an endpoint that only answers 403 cannot succeed")


STORE_ENDPOINTS = [
    (Method.S3_STATIC_KEYS, "endpoint", ""),
    (Method.AWS_ACCESS_KEYS, "endpoint_url", ""),
    (Method.IBM_HMAC, "endpoint", ""),
    (Method.AZURE_CONNECTION_STRING, "connection_string", "devstoreaccount1"),
]


def store_values(method: str, field: str, url: str) -> dict[str, Any]:
    if method == Method.AZURE_CONNECTION_STRING:
        return {"connection_string": f"AccountName=devstoreaccount1;AccountKey=c2VjcmV0;BlobEndpoint={url}/acct;"}
    return {field: url}


@pytest.mark.parametrize(("method", "field", "_"), STORE_ENDPOINTS)
def test_a_stored_inward_endpoint_reaches_nothing(
    method: str, field: str, _: str, organization: Organization, listener: RecordingListener, settings: Any
) -> None:
    connection = stored(organization, method, store_values(method, field, listener.url))
    settings.SPACEPORT_ALLOWED_PRIVATE_NETWORKS = []
    error = list_through(connection)
    assert error.code == "address_refused", error.message
    assert egress.HOST_NETWORK in error.message
    assert not error.transient
    assert (listener.connections, listener.received) == (0, b"")

    settings.SPACEPORT_ALLOWED_PRIVATE_NETWORKS = LOOPBACK_ONLY
    assert list_through(connection).code != "address_refused"
    assert listener.connections > 0, "with the operator's allowance the same client does connect"


def test_a_stored_inward_gcs_endpoint_reaches_nothing(
    organization: Organization, listener: RecordingListener, settings: Any
) -> None:
    settings.SPACEPORT_GCP_EXTRA_TOKEN_HOSTS = ["127.0.0.1"]

    def token(call: Call) -> tuple[int, Any]:
        return 200, {"access_token": "ya29.stand-in", "expires_in": 3600, "token_type": "Bearer"}

    with json_endpoint(token) as token_url:
        key = service_account_key(token_uri=f"{token_url}/token")
        connection = stored(
            organization,
            Method.GCP_SERVICE_ACCOUNT_KEY,
            {"key_json": key, "bucket": "acme-data", "api_endpoint": listener.url},
        )
        settings.SPACEPORT_ALLOWED_PRIVATE_NETWORKS = []
        error = list_through(connection)
        assert error.code == "address_refused", error.message
        assert listener.connections == 0

        settings.SPACEPORT_ALLOWED_PRIVATE_NETWORKS = LOOPBACK_ONLY
        assert list_through(connection).code != "address_refused"
        assert listener.connections > 0


def test_ibms_token_exchange_never_sends_the_api_key_inward(settings: Any) -> None:
    with recording_listener("127.0.0.2") as listener:
        tokens = IamTokens(f"{listener.url}/identity/token", "ibm-api-key-value")
        settings.SPACEPORT_ALLOWED_PRIVATE_NETWORKS = FIRST_LOOPBACK_ONLY
        with pytest.raises(StorageError) as refused:
            tokens.token()
        assert refused.value.code == "address_refused"
        assert (listener.connections, listener.received) == (0, b"")

        settings.SPACEPORT_ALLOWED_PRIVATE_NETWORKS = LOOPBACK_ONLY
        with pytest.raises(StorageError):
            tokens.token()
        assert b"ibm-api-key-value" in listener.received, "allowed, the exchange does reach the listener"


def test_the_api_key_clients_store_requests_are_guarded_too(organization: Organization, settings: Any) -> None:
    """The token comes from a stand-in the operator allowed (127.0.0.1); the store points at 127.0.0.2."""

    def token(call: Call) -> tuple[int, Any]:
        return 200, {"access_token": "ibm-iam-token", "expires_in": 3600}

    with json_endpoint(token) as iam_url, recording_listener("127.0.0.2") as listener:
        settings.SPACEPORT_IBM_IAM_TOKEN_URLS = [iam_url]
        connection = stored(organization, Method.IBM_API_KEY, {"endpoint": listener.url, "iam_url": iam_url})
        settings.SPACEPORT_ALLOWED_PRIVATE_NETWORKS = FIRST_LOOPBACK_ONLY
        error = list_through(connection)
        assert error.code == "address_refused", error.message
        assert listener.connections == 0

        settings.SPACEPORT_ALLOWED_PRIVATE_NETWORKS = LOOPBACK_ONLY
        list_through(connection)
        assert b"ibm-iam-token" in listener.received


def test_a_name_that_changes_its_answer_after_the_check_reaches_nothing(
    organization: Organization, listener: RecordingListener, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.SPACEPORT_ALLOWED_PRIVATE_NETWORKS = []
    lookups = resolving(monkeypatch, "store.rebind.test", ["8.8.8.8", "127.0.0.1"])
    connection = stored(organization, Method.S3_STATIC_KEYS, {"endpoint": f"http://store.rebind.test:{listener.port}"})
    assert lookups == ["8.8.8.8"], "the input check saw a public address"
    error = list_through(connection)
    assert error.code == "address_refused"
    assert "store.rebind.test (127.0.0.1)" in error.message
    assert listener.connections == 0


def test_the_connection_goes_to_the_vetted_address_and_keeps_the_hostname(
    organization: Organization, listener: RecordingListener, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One lookup per new connection, answered by the policy: nothing resolves the name again."""
    lookups = resolving(monkeypatch, "store.pinned.test", ["127.0.0.1"])
    connection = stored(organization, Method.S3_STATIC_KEYS, {"endpoint": f"http://store.pinned.test:{listener.port}"})
    lookups.clear()
    list_through(connection)
    assert listener.connections > 0
    assert len(lookups) == listener.connections
    assert f"host: store.pinned.test:{listener.port}".encode() in listener.received.lower()


def test_direct_copies_reach_nothing_inward(listener: RecordingListener, settings: Any) -> None:
    direct = DirectCopy(
        Credentials("AKIDEXAMPLE", "secret").get_frozen_credentials,
        verify=True,
        connect_timeout=2,
        read_timeout=2,
        max_connections=2,
    )
    authorization = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/s3/aws4_request, Signature=x"
    direct.observe(SimpleNamespace(url=f"{listener.url}/bucket/first", headers={"Authorization": authorization}))
    direct.learn("bucket", "first")
    assert direct.knows("bucket")

    settings.SPACEPORT_ALLOWED_PRIVATE_NETWORKS = []
    assert direct.copy("bucket", "a", "bucket", "b") is None
    assert listener.connections == 0

    settings.SPACEPORT_ALLOWED_PRIVATE_NETWORKS = LOOPBACK_ONLY
    assert direct.copy("bucket", "a", "bucket", "c") is None
    assert listener.connections == 1


def test_a_stored_webhook_pointing_inward_is_not_delivered(
    organization: Organization, listener: RecordingListener, settings: Any
) -> None:
    configure(organization, url=f"{listener.url}/hook", secret="s" * 20)
    delivery = WebhookDelivery.objects.create(organization=organization, event="commit.finish", body="{}")
    settings.SPACEPORT_ALLOWED_PRIVATE_NETWORKS = []
    assert deliver(delivery, final=False) is False
    delivery.refresh_from_db()
    assert delivery.state == WebhookDelivery.State.FAILED
    assert egress.HOST_NETWORK in delivery.error
    assert listener.connections == 0


def test_webhook_redirects_are_not_followed(organization: Organization, listener: RecordingListener) -> None:
    class Redirect(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(307)
            self.send_header("Location", f"{listener.url}/stolen")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    with serve(Redirect) as receiver:
        configure(organization, url=f"{receiver}/hook", secret="s" * 20)
        delivery = WebhookDelivery.objects.create(organization=organization, event="commit.finish", body="{}")
        assert deliver(delivery, final=False) is False
    delivery.refresh_from_db()
    assert (delivery.state, delivery.response_status) == (WebhookDelivery.State.FAILED, 307)
    assert listener.connections == 0


def test_through_a_proxy_the_tunnels_target_is_vetted_before_the_proxy_is_asked(
    listener: RecordingListener, settings: Any
) -> None:
    """The listener plays the operator's HTTPS proxy: it hears no CONNECT for a metadata address."""
    settings.SPACEPORT_ALLOWED_PRIVATE_NETWORKS = []
    refused = GuardedHTTPSConnection(LOOPBACK, listener.port, timeout=2)
    refused.set_tunnel("169.254.169.254", 443)
    with pytest.raises(egress.AddressRefused):
        refused.connect()
    assert listener.connections == 0

    allowed = GuardedHTTPSConnection(LOOPBACK, listener.port, timeout=2)
    allowed.set_tunnel("8.8.8.8", 443)
    with pytest.raises(OSError):
        allowed.connect()
    assert b"CONNECT 8.8.8.8:443" in listener.received, "the proxy itself is the operator's, reached as it is"


@pytest.mark.parametrize(("served_name", "trusted"), [("store.pinned.test", True), ("other.example.test", False)])
def test_tls_keeps_the_hostname_for_sni_and_the_certificate_check(
    served_name: str, trusted: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The socket goes to the vetted address; SNI and the certificate check still use the name."""
    cert, key = self_signed(tmp_path, served_name)
    sni: list[str | None] = []

    class Hello(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    context.sni_callback = lambda sock, name, ctx: sni.append(name)  # type: ignore[assignment,misc,unused-ignore]
    lookups = resolving(monkeypatch, "store.pinned.test", [LOOPBACK])
    with serve(Hello, tls=context) as served, guarded_session() as session:
        url = f"https://store.pinned.test:{urlsplit(served).port}/"
        if trusted:
            assert session.get(url, verify=str(cert), timeout=5).status_code == 200
        else:
            with pytest.raises(requests.exceptions.SSLError):
                session.get(url, verify=str(cert), timeout=5)
    assert sni == ["store.pinned.test"]
    assert lookups == [LOOPBACK]


def test_ibms_token_host_is_looked_up_once_for_the_connection_that_fetches_the_token(
    organization: Organization, listener: RecordingListener, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Building the client holds the token URL to the operator's list; the policy's lookup is the
    guarded connection's own, whose address it then connects to."""
    with json_endpoint(lambda call: (200, {"access_token": "ibm-iam-token", "expires_in": 3600})) as served:
        iam_url = f"http://iam.pinned.test:{urlsplit(served).port}/identity/token"
        settings.SPACEPORT_IBM_IAM_TOKEN_URLS = [iam_url]
        lookups = resolving(monkeypatch, "iam.pinned.test", [LOOPBACK])
        connection = stored(organization, Method.IBM_API_KEY, {"endpoint": listener.url, "iam_url": iam_url})
        lookups.clear()
        assert client_for(connection).tokens.token() == "ibm-iam-token"
    assert lookups == [LOOPBACK]


def test_an_entra_authority_is_looked_up_once_for_the_connection_that_fetches_the_token(
    settings: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """azure-identity asks the authority for its OpenID configuration, then for the token, on one
    connection: one lookup, not one more while the credential is made."""
    cert, key = self_signed(tmp_path, "login.pinned.test")

    class Entra(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def answer(self, body: dict[str, Any]) -> None:
            payload = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def do_GET(self) -> None:
            base = f"{authority}/{self.path.strip('/').split('/')[0]}"
            endpoints = {"token_endpoint": f"{base}/oauth2/v2.0/token", "authorization_endpoint": f"{base}/authorize"}
            self.answer({**endpoints, "issuer": f"{base}/v2.0"})

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.answer({"token_type": "Bearer", "expires_in": 3600, "access_token": "entra-token"})

        def log_message(self, format: str, *args: Any) -> None:
            pass

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    with serve(Entra, tls=context) as served:
        authority = f"https://login.pinned.test:{urlsplit(served).port}"
        settings.SPACEPORT_AZURE_AUTHORITY_HOSTS = [authority]
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert))
        lookups = resolving(monkeypatch, "login.pinned.test", [LOOPBACK])
        config = {"tenant_id": "acme-tenant", "client_id": "acme-app", "authority_host": authority}
        credential = service_principal_credential(config, {"client_secret": "entra-secret"})
        assert credential.get_token("https://storage.azure.com/.default").token == "entra-token"
    assert lookups == [LOOPBACK]
