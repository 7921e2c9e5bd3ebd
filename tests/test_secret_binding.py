"""A stored secret is only ever sent to the destination it was entered for.

The attack: an organization admin changes where a connection's stored secret goes (the IBM IAM
token URL, the COS endpoint, the Azure authority or account URL) to a host they run, and lets
validation deliver a key they never knew. Each test points the change at a loopback listener that
records what reaches it, as the attack needs, and checks that nothing does.

No IBM Cloud IAM or Entra ID emulator exists: the listeners are small token endpoints written for
the tests (tests/loopback.py), configured through the operator's allow-lists like any real host.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.apps import apps
from django.core.exceptions import ImproperlyConfigured

from connections import binding, lifecycle
from connections.methods import ConnectionInputError, Method
from connections.models import CloudConnection, Status
from connections.probe import validate
from connections.providers.base import StorageError
from connections.providers.registry import client_for, forget_clients
from portal.audit.models import AuditEvent
from portal.tenancy.models import Organization
from spaceport.env import env_url_list
from tests.conftest import assert_api_error
from tests.emulators import LOOPBACK, free_port
from tests.loopback import Call, json_endpoint

bind_migration = importlib.import_module("connections.migrations.0005_bind_stored_secrets")

API_KEY = "ibm-api-key-" + "b" * 32
CLIENT_SECRET = "entra-client-secret-" + "c" * 20
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
CLIENT = "11111111-2222-3333-4444-555555555555"


@pytest.fixture(autouse=True)
def fresh_clients() -> None:
    forget_clients()


class Listener:
    """A token endpoint an attacker would run: it records every call and refuses them all."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.url = ""

    def answer(self, call: Call) -> tuple[int, Any]:
        self.calls.append(call)
        return 400, {"error": "invalid_request"}

    def heard(self, secret: str) -> bool:
        return any(secret.encode() in call.raw or secret in str(call.headers) for call in self.calls)


@pytest.fixture
def listener() -> Iterator[Listener]:
    recorder = Listener()
    with json_endpoint(recorder.answer) as base:
        recorder.url = f"{base}/identity/token"
        yield recorder


@pytest.fixture
def iam_urls(settings: Any, listener: Listener) -> list[str]:
    """The operator lists two IAM token URLs: IBM's own and, for the tests, the listener."""
    settings.SPACEPORT_IBM_IAM_TOKEN_URLS = ["https://iam.cloud.ibm.com/identity/token", listener.url]
    return list(settings.SPACEPORT_IBM_IAM_TOKEN_URLS)


def url(name: str = "") -> str:
    return "/api/v1/organizations/acme/connections/" + (f"{name}/" if name else "")


def ibm_values(**changes: Any) -> dict[str, Any]:
    return {
        "endpoint": f"http://{LOOPBACK}:{free_port()}",
        "bucket": "cos-bucket",
        "api_key": API_KEY,
        "iam_url": "https://iam.cloud.ibm.com/identity/token",
        **changes,
    }


def ibm_connection(organization: Organization) -> CloudConnection:
    return lifecycle.create_connection(
        organization, name="cos", method=Method.IBM_API_KEY, values=ibm_values(), validate=False
    )


def without_secret(connection: CloudConnection, **changes: Any) -> dict[str, Any]:
    return {**connection.config, **changes}


def test_changing_the_iam_token_url_needs_the_api_key_again(
    api: Any, owner: Any, organization: Organization, iam_urls: list[str], listener: Listener
) -> None:
    connection = ibm_connection(organization)
    before = (dict(connection.config), connection.secret.bound_to if connection.secret else "")

    response = api(owner).patch(url("cos"), {"values": without_secret(connection, iam_url=listener.url)}, format="json")

    assert_api_error(response, 400, "values.api_key")
    body = response.json()
    assert "Enter the API key again to change where it is sent" in body["fields"]["values.api_key"][0]
    assert "IAM token URL" in body["fields"]["values.api_key"][0]
    assert "values.iam_url" in body["fields"]
    connection.refresh_from_db()
    assert (connection.config, connection.secret.bound_to if connection.secret else "") == before
    assert connection.status == Status.DRAFT
    assert listener.calls == []


def test_changing_the_endpoint_needs_the_api_key_again(
    organization: Organization, iam_urls: list[str], listener: Listener
) -> None:
    connection = ibm_connection(organization)
    with pytest.raises(ConnectionInputError) as refused:
        lifecycle.update_connection(
            connection, values=without_secret(connection, endpoint=f"http://{LOOPBACK}:{free_port()}"), validate=False
        )
    assert set(refused.value.errors) == {"api_key", "endpoint"}
    assert "enter the API key again" in refused.value.errors["endpoint"]


def test_an_iam_token_url_the_operator_does_not_list_is_refused(
    api: Any, owner: Any, organization: Organization, settings: Any, listener: Listener
) -> None:
    connection = ibm_connection(organization)

    response = api(owner).patch(url("cos"), {"values": {**ibm_values(), "iam_url": listener.url}}, format="json")

    assert_api_error(response, 400, "values.iam_url")
    assert "https://iam.cloud.ibm.com/identity/token" in response.json()["fields"]["values.iam_url"][0]
    connection.refresh_from_db()
    assert connection.config["iam_url"] == "https://iam.cloud.ibm.com/identity/token"
    assert listener.calls == []


def test_entering_the_api_key_again_moves_it(
    organization: Organization, iam_urls: list[str], listener: Listener
) -> None:
    connection = ibm_connection(organization)
    old_binding = connection.secret.bound_to if connection.secret else ""

    lifecycle.update_connection(
        connection, values={**without_secret(connection, iam_url=listener.url), "api_key": API_KEY}, validate=False
    )

    connection.refresh_from_db()
    assert connection.config["iam_url"] == listener.url
    assert connection.secret is not None
    assert connection.secret == {"api_key": API_KEY}
    assert connection.secret.bound_to not in ("", old_binding)
    binding.require_bound(connection)


def test_a_destination_changed_in_the_database_is_never_sent_the_secret(
    organization: Organization, iam_urls: list[str], listener: Listener
) -> None:
    """Past the domain code (the database, a shell): the client refuses the secret, validation says why."""
    connection = ibm_connection(organization)
    CloudConnection.objects.filter(pk=connection.pk).update(config={**connection.config, "iam_url": listener.url})
    connection.refresh_from_db()

    with pytest.raises(StorageError) as refused:
        client_for(connection)
    assert refused.value.code == "secret_unbound"
    assert "API key" in refused.value.hint

    status, retrying = validate(connection)

    assert (status, retrying) == (Status.INVALID, False)
    connection.refresh_from_db()
    assert "was entered for another destination" in connection.status_message
    assert listener.calls == []
    assert not listener.heard(API_KEY)


def test_a_token_url_dropped_from_the_list_is_not_used(
    organization: Organization, iam_urls: list[str], listener: Listener, settings: Any
) -> None:
    connection = lifecycle.create_connection(
        organization, name="cos", method=Method.IBM_API_KEY, values=ibm_values(iam_url=listener.url), validate=False
    )
    settings.SPACEPORT_IBM_IAM_TOKEN_URLS = ["https://iam.cloud.ibm.com/identity/token"]

    status, _ = validate(connection)

    assert status == Status.INVALID
    connection.refresh_from_db()
    assert "not one this Spaceport allows" in connection.status_message
    assert listener.calls == []


def test_secrets_stored_before_binding_are_bound_by_the_migration(organization: Organization) -> None:
    connection = ibm_connection(organization)
    CloudConnection.objects.filter(pk=connection.pk).update(secret={"api_key": API_KEY})
    connection.refresh_from_db()
    assert connection.secret is not None and connection.secret.bound_to == ""
    with pytest.raises(binding.SecretUnbound):
        binding.require_bound(connection)

    bind_migration.bind(apps, None)

    connection.refresh_from_db()
    assert connection.secret == {"api_key": API_KEY}
    binding.require_bound(connection)


# --- Azure service principal: the authority and the account URL ----------------------------------


@pytest.fixture
def authorities(settings: Any, listener: Listener) -> str:
    """The operator allows the public cloud and, for the tests, the listener's origin."""
    origin = listener.url.rsplit("/identity/token", 1)[0]
    settings.SPACEPORT_AZURE_AUTHORITY_HOSTS = ["https://login.microsoftonline.com", origin]
    return origin


def service_principal(organization: Organization, **changes: Any) -> CloudConnection:
    values = {
        "tenant_id": TENANT,
        "client_id": CLIENT,
        "account_url": "https://acmedata.blob.core.windows.net",
        "client_secret": CLIENT_SECRET,
        **changes,
    }
    return lifecycle.create_connection(
        organization, name="blob", method=Method.AZURE_SERVICE_PRINCIPAL, values=values, validate=False
    )


def test_the_authority_defaults_to_the_first_allowed_one(organization: Organization, authorities: str) -> None:
    connection = service_principal(organization)
    assert connection.config["authority_host"] == "https://login.microsoftonline.com"


def test_changing_the_authority_needs_the_client_secret_again(
    api: Any, owner: Any, organization: Organization, authorities: str, listener: Listener
) -> None:
    connection = service_principal(organization)

    response = api(owner).patch(
        url("blob"), {"values": without_secret(connection, authority_host=authorities)}, format="json"
    )

    assert_api_error(response, 400, "values.client_secret")
    assert "values.authority_host" in response.json()["fields"]
    connection.refresh_from_db()
    assert connection.config["authority_host"] == "https://login.microsoftonline.com"
    assert listener.calls == []


def test_changing_the_account_url_needs_the_client_secret_again(organization: Organization, authorities: str) -> None:
    connection = service_principal(organization)
    with pytest.raises(ConnectionInputError) as refused:
        lifecycle.update_connection(
            connection,
            values=without_secret(connection, account_url=f"http://{LOOPBACK}:{free_port()}/acmedata"),
            validate=False,
        )
    assert set(refused.value.errors) == {"client_secret", "account_url"}


def test_an_authority_the_operator_does_not_list_is_refused(organization: Organization, settings: Any) -> None:
    with pytest.raises(ConnectionInputError) as refused:
        service_principal(organization, authority_host=f"https://{LOOPBACK}:{free_port()}")
    assert set(refused.value.errors) == {"authority_host"}
    assert not CloudConnection.objects.filter(name="blob").exists()


def test_an_http_authority_ends_validation_with_a_message_not_a_stuck_status(
    organization: Organization, settings: Any, listener: Listener
) -> None:
    """azure-identity refuses an authority that is not https with a ValueError; before, it escaped
    the validation task and left the connection in 'validating' with an empty message."""
    origin = listener.url.rsplit("/identity/token", 1)[0]
    settings.SPACEPORT_AZURE_AUTHORITY_HOSTS = [origin]
    connection = service_principal(organization, authority_host=origin)
    CloudConnection.objects.filter(pk=connection.pk).update(status=Status.VALIDATING)
    connection.refresh_from_db()

    status, retrying = validate(connection)

    assert (status, retrying) == (Status.INVALID, False)
    connection.refresh_from_db()
    assert connection.status == Status.INVALID
    assert "https" in connection.status_message
    assert CLIENT_SECRET not in connection.status_message
    assert listener.calls == []


def test_the_method_catalogue_offers_the_operators_choices(api: Any, owner: Any, iam_urls: list[str]) -> None:
    response = api(owner).get("/api/v1/connection-methods/")
    assert response.status_code == 200
    methods = {m["method"]: m for m in response.json()}
    inputs = {i["name"]: i for i in methods[Method.IBM_API_KEY]["inputs"]}
    assert inputs["iam_url"]["kind"] == "choice"
    assert [c["value"] for c in inputs["iam_url"]["choices"]] == iam_urls
    assert inputs["iam_url"]["destination"] is True
    assert inputs["endpoint"]["destination"] is True
    assert inputs["bucket"]["destination"] is False


def test_the_operators_lists_are_checked_at_start_up(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPACEPORT_AZURE_AUTHORITY_HOSTS", "login.microsoftonline.us, https://login.example.com/")
    assert env_url_list("SPACEPORT_AZURE_AUTHORITY_HOSTS", [], origins=True) == [
        "https://login.microsoftonline.us",
        "https://login.example.com",
    ]
    monkeypatch.setenv("SPACEPORT_AZURE_AUTHORITY_HOSTS", "http://login.example.com")
    with pytest.raises(ImproperlyConfigured, match="only https"):
        env_url_list("SPACEPORT_AZURE_AUTHORITY_HOSTS", [], origins=True)
    monkeypatch.setenv("SPACEPORT_IBM_IAM_TOKEN_URLS", "ftp://iam.example.com/token")
    with pytest.raises(ImproperlyConfigured, match="SPACEPORT_IBM_IAM_TOKEN_URLS"):
        env_url_list("SPACEPORT_IBM_IAM_TOKEN_URLS", [])


# --- the audit trail says which secret changed, never its value -----------------------------------


def test_replacing_a_secret_is_audited_by_name(
    api: Any, owner: Any, organization: Organization, iam_urls: list[str], listener: Listener
) -> None:
    connection = ibm_connection(organization)
    new_key = "ibm-api-key-" + "n" * 32

    response = api(owner).patch(
        url("cos"),
        {"values": {**without_secret(connection, iam_url=listener.url), "api_key": new_key}, "validate_now": False},
        format="json",
    )

    assert response.status_code == 200, response.json()
    event = AuditEvent.objects.get(action="connection.secret.change")
    assert event.actor == owner
    assert event.target_id == str(connection.pk)
    assert event.organization == organization
    assert event.details["replaced"] == ["api_key"]
    assert event.details["destination"]["iam_url"] == listener.url
    update = AuditEvent.objects.filter(action="cloudconnection.update").latest("time")
    assert update.details["changes"]["config"]["to"]["iam_url"] == listener.url
    trail = json.dumps(list(AuditEvent.objects.values("details")), default=str)
    assert new_key not in trail
    assert API_KEY not in trail


def test_an_edit_that_keeps_the_secret_writes_no_secret_event(organization: Organization) -> None:
    connection = ibm_connection(organization)
    lifecycle.update_connection(connection, values=without_secret(connection, bucket="cos-other"), validate=False)
    assert not AuditEvent.objects.filter(action="connection.secret.change").exists()


def test_a_validation_event_says_what_the_status_was(
    organization: Organization, iam_urls: list[str], listener: Listener
) -> None:
    connection = ibm_connection(organization)
    CloudConnection.objects.filter(pk=connection.pk).update(config={**connection.config, "iam_url": listener.url})
    connection.refresh_from_db()
    validate(connection)
    connection.refresh_from_db()
    validate(connection)

    first, second = AuditEvent.objects.filter(action="connection.validate").order_by("time")
    assert (first.details["previous_status"], first.details["status"]) == ("", Status.INVALID)
    assert (second.details["previous_status"], second.details["status"]) == (Status.INVALID, Status.INVALID)
    assert first.details["failed"] == ["connect"]


def test_an_empty_authority_stored_before_the_list_binds_like_the_public_cloud(
    organization: Organization, authorities: str
) -> None:
    """Rows from before the list stored no authority (azure-identity's default, the public cloud); the page
    now submits the public cloud explicitly, which must not count as moving the secret."""
    connection = service_principal(organization)
    CloudConnection.objects.filter(pk=connection.pk).update(config={**connection.config, "authority_host": ""})
    connection.refresh_from_db()
    binding.require_bound(connection)

    lifecycle.update_connection(
        connection,
        values=without_secret(connection, authority_host="https://login.microsoftonline.com"),
        validate=False,
    )
    connection.refresh_from_db()
    assert connection.secret == {"client_secret": CLIENT_SECRET}
