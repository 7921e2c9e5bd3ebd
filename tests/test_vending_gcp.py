"""Downscoped GCS tokens: the token exchange Spaceport asks of Google's STS, checked exactly.

No emulator implements, let alone enforces, Credential Access Boundaries: gcp-storage-emulator
accepts any token or none. So a small STS stand-in on loopback receives the exchange and the
tests check everything in it (grant, token types, the source token, the boundary per access
level); it also issues the source token for the service-account key, checking the signed
assertion. The downscoped token is then sent to the emulator, which shows only that the
request is well formed, not that Google would honour the boundary.
"""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote

import jwt
import pytest
from google.cloud import storage
from google.oauth2.credentials import Credentials as BearerToken

from connections.methods import Method, Provider, clean_input
from connections.models import CloudConnection
from connections.providers.base import Location
from connections.providers.gcp import vendor as vending
from connections.providers.registry import forget_clients, location_for, vendor_for
from connections.providers.vending import Access, NotVendable, Scope
from portal.tenancy.models import Organization
from tests.conftest import assert_expires_in
from tests.connection_inputs import service_account_key
from tests.emulators import LOOPBACK, GcsEmulator
from tests.loopback import json_endpoint

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"


@dataclass
class StsStandIn:
    """Google's OAuth token endpoint (for the source token) and STS (for the downscoped one)."""

    url: str = ""
    public_keys: dict[str, Any] = field(default_factory=dict)
    source_tokens: list[str] = field(default_factory=list)
    exchanges: list[dict[str, str]] = field(default_factory=list)
    downscoped: list[str] = field(default_factory=list)
    refuse: bool = False

    def answer(self, path: str, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        if path == "/token":
            header = jwt.get_unverified_header(form["assertion"])
            jwt.decode(
                form["assertion"],
                self.public_keys[header["kid"]],
                algorithms=["RS256"],
                audience="https://oauth2.googleapis.com/token",
            )
            token = f"ya29.source-{secrets.token_urlsafe(8)}"
            self.source_tokens.append(token)
            return 200, {"access_token": token, "expires_in": 3599, "token_type": "Bearer"}
        if path == "/v1/token":
            self.exchanges.append(form)
            if self.refuse:
                return 400, {"error": "invalid_grant", "error_description": "The access boundary is invalid."}
            token = f"ya29.downscoped-{secrets.token_urlsafe(8)}"
            self.downscoped.append(token)
            return 200, {
                "access_token": token,
                "issued_token_type": ACCESS_TOKEN_TYPE,
                "token_type": "Bearer",
                "expires_in": 3600,
            }
        return 404, {"error": "not_found"}


@pytest.fixture
def google(settings: Any) -> Iterator[StsStandIn]:
    stand_in = StsStandIn()
    with json_endpoint(lambda call: stand_in.answer(call.path, call.body)) as url:
        stand_in.url = url
        settings.SPACEPORT_GCP_EXTRA_TOKEN_HOSTS = [LOOPBACK]
        settings.SPACEPORT_GCP_STS_ENDPOINT = f"{url}/v1/token"
        forget_clients()
        yield stand_in


def key_file(google: StsStandIn) -> dict[str, Any]:
    return service_account_key(f"{google.url}/token", public_keys=google.public_keys, project="customer-project")


@pytest.fixture
def bucket(gcs_emulator: GcsEmulator) -> str:
    name = f"vend-{uuid.uuid4().hex[:10]}"
    gcs_emulator.client().create_bucket(name)
    return name


def connection_for(
    organization: Organization, google: StsStandIn, bucket: str, endpoint: str, prefix: str = "spaceport"
) -> CloudConnection:
    values = {"key_json": json.dumps(key_file(google)), "bucket": bucket, "prefix": prefix, "api_endpoint": endpoint}
    config, secret = clean_input(Method.GCP_SERVICE_ACCOUNT_KEY, values)
    return CloudConnection.objects.create(
        organization=organization,
        name=f"gcs-{uuid.uuid4().hex[:8]}",
        provider=Provider.GCP,
        method=Method.GCP_SERVICE_ACCOUNT_KEY,
        config=config,
        secret=secret,
    )


def scope_for(connection: CloudConnection, access: str) -> Scope:
    return Scope(
        connection=connection,
        location=location_for(connection, "raw"),
        access=access,
        lifetime=timedelta(minutes=30),
        user_id=1,
        user_label="member@example.com",
    )


def expected_boundary(bucket: str, prefix: str, roles: list[str]) -> dict[str, Any]:
    """Written out by hand from Google's documented format, not from the code under test."""
    return {
        "accessBoundary": {
            "accessBoundaryRules": [
                {
                    "availableResource": f"//storage.googleapis.com/projects/_/buckets/{bucket}",
                    "availablePermissions": [f"inRole:roles/storage.{role}" for role in roles],
                    "availabilityCondition": {
                        "expression": f"resource.name.startsWith('projects/_/buckets/{bucket}/objects/{prefix}') || "
                        "api.getAttribute('storage.googleapis.com/objectListPrefix', '').startsWith("
                        f"'{prefix}')"
                    },
                }
            ]
        }
    }


LEVEL_ROLES: dict[str, list[str]] = {
    Access.READ: ["objectViewer"],
    Access.WRITE: ["objectViewer", "objectCreator"],
    Access.DELETE: ["objectAdmin"],
}


@pytest.mark.parametrize("access", list(Access))
def test_the_exchange_carries_exactly_the_boundary_of_the_level(
    access: str, organization: Organization, google: StsStandIn, bucket: str, gcs_emulator: GcsEmulator
) -> None:
    connection = connection_for(organization, google, bucket, gcs_emulator.endpoint_url)
    vendor = vendor_for(connection)
    assert not vendor.per_user

    before = datetime.now(UTC)
    credential = vendor.vend(scope_for(connection, access))

    assert len(google.exchanges) == 1
    exchange = google.exchanges[0]
    assert set(exchange) == {"grant_type", "subject_token", "subject_token_type", "requested_token_type", "options"}
    assert exchange["grant_type"] == TOKEN_EXCHANGE
    assert exchange["subject_token_type"] == ACCESS_TOKEN_TYPE
    assert exchange["requested_token_type"] == ACCESS_TOKEN_TYPE
    assert exchange["subject_token"] == google.source_tokens[-1]
    options = json.loads(unquote(exchange["options"]))
    assert options == expected_boundary(bucket, "spaceport/raw/", LEVEL_ROLES[access])
    assert credential.kind == "gcp_downscoped_token"
    assert credential.secret == {"access_token": google.downscoped[0]}
    assert google.source_tokens[-1] not in json.dumps(credential.secret) + "".join(credential.snippets.values())
    assert_expires_in(credential.expires_at, timedelta(hours=1), before)
    assert credential.location == {
        "bucket": bucket,
        "prefix": "spaceport/raw/",
        "api_endpoint": gcs_emulator.endpoint_url,
    }


def test_quotes_and_backslashes_in_names_cannot_end_the_expression(
    organization: Organization, google: StsStandIn, bucket: str, gcs_emulator: GcsEmulator
) -> None:
    connection = connection_for(organization, google, bucket, gcs_emulator.endpoint_url, prefix="it's*")
    vendor_for(connection).vend(scope_for(connection, Access.READ))

    options = json.loads(unquote(google.exchanges[0]["options"]))
    expression = options["accessBoundary"]["accessBoundaryRules"][0]["availabilityCondition"]["expression"]
    assert f"startsWith('projects/_/buckets/{bucket}/objects/it\\'s*/raw/')" in expression
    assert expression.endswith(".startsWith('it\\'s*/raw/')")
    assert vending.cel_string("a\\'b\n") == "a\\\\\\'b\\x0a"
    rules = vending.boundary_rules(Location("b", "raw"), Access.READ)
    assert "objects/raw/')" in rules[0]["availabilityCondition"]["expression"], "the prefix ends with its slash"


def test_the_token_reaches_storage(
    organization: Organization, google: StsStandIn, bucket: str, gcs_emulator: GcsEmulator
) -> None:
    """The emulator accepts any token, so this proves only that the token is used as a bearer token."""
    connection = connection_for(organization, google, bucket, gcs_emulator.endpoint_url)
    credential = vendor_for(connection).vend(scope_for(connection, Access.WRITE))
    client = storage.Client(
        project="customer-project",
        credentials=BearerToken(credential.secret["access_token"]),
        client_options={"api_endpoint": gcs_emulator.endpoint_url},
    )

    client.bucket(bucket).blob("spaceport/raw/run.csv").upload_from_string(b"run")

    assert [b.name for b in client.list_blobs(bucket, prefix="spaceport/raw/")] == ["spaceport/raw/run.csv"]
    assert f"CLOUDSDK_AUTH_ACCESS_TOKEN={credential.secret['access_token']}" in credential.snippets["env"]
    assert f"gs://{bucket}/spaceport/raw/" in credential.snippets["gcloud"]
    assert (
        f"{gcs_emulator.endpoint_url}/storage/v1/b/{bucket}/o?prefix=spaceport%2Fraw%2F" in credential.snippets["curl"]
    )


def test_a_refused_exchange_is_a_clear_error_without_tokens(
    organization: Organization, google: StsStandIn, bucket: str, gcs_emulator: GcsEmulator
) -> None:
    google.refuse = True
    connection = connection_for(organization, google, bucket, gcs_emulator.endpoint_url)

    with pytest.raises(NotVendable) as raised:
        vendor_for(connection).vend(scope_for(connection, Access.READ))

    assert raised.value.field == "connection"
    assert raised.value.code == "invalid_credentials"
    for token in google.source_tokens:
        assert token not in raised.value.message
