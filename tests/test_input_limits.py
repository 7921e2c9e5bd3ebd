"""Hostile input gets a 400 that names the field, never a 500, and changes nothing.

Each case was a server error or was stored as sent: JSON nested a hundred thousand deep
(RecursionError), a credential lifetime of 2**63 minutes (OverflowError), NUL and other control
characters in secrets and names.
"""

from __future__ import annotations

import ipaddress
import json
from typing import Any

import pytest

from accessgrants.forms import CredentialRequestForm
from commits.models import OrganizationWebhook
from connections.models import CloudConnection
from portal.tenancy.models import Organization, Space
from portal.web.jsonlimits import MAX_JSON_DEPTH
from tests.conftest import assert_api_error
from tests.connection_inputs import VALID_INPUTS, service_account_key

CONNECTIONS = "/api/v1/organizations/acme/connections/"


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def test_a_body_nested_a_hundred_thousand_deep_is_a_400(api: Any, owner: Any, organization: Organization) -> None:
    body = '{"display_name": "Deep", "tags": ' + nested(100_000) + "}"
    response = api(owner).generic("PATCH", "/api/v1/organizations/acme/", body, "application/json")
    assert_api_error(response, 400, "body")
    assert f"deeper than {MAX_JSON_DEPTH}" in response.json()["message"]
    organization.refresh_from_db()
    assert organization.display_name != "Deep"


def test_brackets_inside_strings_do_not_count(api: Any, owner: Any, organization: Organization) -> None:
    response = api(owner).patch("/api/v1/organizations/acme/", {"description": "[" * 1000}, format="json")
    assert response.status_code == 200, response.json()


def test_a_key_file_nested_twenty_thousand_deep_is_a_400(api: Any, owner: Any, organization: Organization) -> None:
    key = json.dumps(service_account_key())[:-1] + ', "extra": ' + nested(20_000) + "}"
    response = api(owner).post(
        CONNECTIONS,
        {"name": "gcs", "method": "gcp_service_account_key", "values": {"key_json": key, "bucket": "acme-data"}},
        format="json",
    )
    assert_api_error(response, 400, "values.key_json")
    assert "deeper than" in response.json()["fields"]["values.key_json"][0]
    assert not CloudConnection.objects.exists()


def test_a_credential_configuration_nested_too_deep_is_a_400(api: Any, owner: Any, organization: Organization) -> None:
    document: Any = {"leaf": 1}
    for _ in range(MAX_JSON_DEPTH + 5):
        document = {"next": document}
    response = api(owner).post(
        CONNECTIONS,
        {
            "name": "wif",
            "method": "gcp_workload_identity",
            "values": {"credential_config": json.dumps(document), "bucket": "acme-data"},
        },
        format="json",
    )
    assert_api_error(response, 400, "values.credential_config")


@pytest.mark.parametrize("minutes", [2**63, 10**30, 721])
def test_a_lifetime_beyond_the_longest_allowed_is_a_400(api: Any, member: Any, space: Space, minutes: int) -> None:
    response = api(member).post(
        f"/api/v1/organizations/{space.organization.name}/spaces/{space.name}/credentials/",
        {"access": "read", "lifetime_minutes": minutes},
        format="json",
    )
    assert_api_error(response, 400, "lifetime_minutes")
    assert "at most 720 minutes" in response.json()["fields"]["lifetime_minutes"][0]


@pytest.mark.parametrize("character", ["\x00", "\x1b", "\x7f", "\x85", "\n"])
def test_control_characters_in_a_secret_are_refused(
    api: Any, owner: Any, organization: Organization, character: str
) -> None:
    values = {**VALID_INPUTS["aws_access_keys"], "secret_access_key": f"wJalrXUtnFEMI{character}K7MDENG"}
    response = api(owner).post(
        CONNECTIONS, {"name": "keys", "method": "aws_access_keys", "values": values}, format="json"
    )
    assert_api_error(response, 400, "values.secret_access_key")
    message = response.json()["fields"]["values.secret_access_key"][0]
    assert "control characters" in message
    assert "wJalrXUtnFEMI" not in json.dumps(response.json())
    assert not CloudConnection.objects.exists()


def test_control_characters_hidden_in_a_key_file_are_refused(api: Any, owner: Any, organization: Organization) -> None:
    key = service_account_key()
    key["client_id"] = "123\u0000456"
    response = api(owner).post(
        CONNECTIONS,
        {"name": "gcs", "method": "gcp_service_account_key", "values": {"key_json": key, "bucket": "acme-data"}},
        format="json",
    )
    assert_api_error(response, 400, "values.key_json")


def test_a_pem_certificate_keeps_its_line_breaks(organization: Organization) -> None:
    from connections.inputs import pem_certificate_with_key, printable

    printable("-----BEGIN CERTIFICATE-----\r\nMIIB\tAA==\n", multiline=True)
    with pytest.raises(ValueError, match="control characters"):
        pem_certificate_with_key("-----BEGIN CERTIFICATE-----\x00\n-----END CERTIFICATE-----\n")


@pytest.mark.parametrize(
    ("field", "value"),
    [("display_name", "Acme\x00Data"), ("display_name", "Acme\nData"), ("description", "line\x1b[2Jcleared")],
)
def test_control_characters_in_organization_text_are_refused(
    api: Any, owner: Any, organization: Organization, field: str, value: str
) -> None:
    response = api(owner).patch("/api/v1/organizations/acme/", {field: value}, format="json")
    assert_api_error(response, 400, field)
    organization.refresh_from_db()
    assert getattr(organization, field) != value


def test_a_description_may_span_lines(api: Any, owner: Any, organization: Organization) -> None:
    response = api(owner).patch("/api/v1/organizations/acme/", {"description": "one\n\ttwo\r\n"}, format="json")
    assert response.status_code == 200, response.json()


def test_control_characters_in_space_text_are_refused(api: Any, owner: Any, organization: Organization) -> None:
    response = api(owner).post(
        "/api/v1/organizations/acme/spaces/", {"name": "raw", "display_name": "Raw\u2028data"}, format="json"
    )
    assert_api_error(response, 400, "display_name")
    assert not Space.objects.filter(organization=organization, name="raw").exists()


def test_control_characters_in_a_connection_name_are_refused(api: Any, owner: Any, organization: Organization) -> None:
    response = api(owner).post(
        CONNECTIONS,
        {"name": "keys\x00x", "method": "aws_access_keys", "values": VALID_INPUTS["aws_access_keys"]},
        format="json",
    )
    assert_api_error(response, 400, "name")
    assert not CloudConnection.objects.exists()


def test_the_credentials_page_bounds_the_lifetime_too(db: None) -> None:
    form = CredentialRequestForm({"access": "read", "lifetime_minutes": str(2**63)})
    assert not form.is_valid()
    assert form.errors["lifetime_minutes"] == ["Choose a lifetime between 1 and 720 minutes for read access."]


def test_control_characters_in_a_webhook_secret_are_refused(
    api: Any, owner: Any, organization: Organization, settings: Any
) -> None:
    settings.SPACEPORT_ALLOWED_PRIVATE_NETWORKS = [ipaddress.ip_network("127.0.0.0/8")]
    response = api(owner).put(
        "/api/v1/organizations/acme/webhook/",
        {"url": "https://127.0.0.1:9/spaceport", "secret": "signing-secret\x00-with-a-nul"},
        format="json",
    )
    assert_api_error(response, 400, "secret")
    assert "signing-secret" not in response.content.decode()
    assert not OrganizationWebhook.objects.filter(organization=organization).exists()
