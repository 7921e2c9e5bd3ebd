"""VAST's ``/api/s3keys/``: the reference's own client gets a key pair, the third call its message,
and a key is deleted by its id; HTTP Basic, a personal API token and a bearer JWT all sign in."""

from __future__ import annotations

import base64
import contextlib
import copy
import io
import uuid
from typing import Any

import pytest
from rest_framework.test import APIClient

from accessgrants.models import AccessKey, KeyPolicy
from portal.auth.models import ApiToken
from portal.tenancy.changes import create_organization
from portal.tenancy.grants import Grant, Role, Scope
from portal.tenancy.models import Organization, Space
from tests.conftest import PASSWORD
from tests.idp.fixtures import IdentityProvider, identity_provider_fixture  # noqa: F401

S3KEYS = "/api/s3keys/"
LIMIT = {"detail": "A user cannot have more than two access keys"}

# The reference's example client, word for word but for the address it posts to.
REFERENCE_SNIPPET = """
import os
import requests
from requests.auth import HTTPBasicAuth

# Retrieve environment variables -
vms_vip = os.getenv('VAST_VIP')
username = os.getenv('VAST_USERNAME')
password = os.getenv('VAST_PASSWORD')

if not all([vms_vip, username, password]):
    raise ValueError("Missing one or more environment variables: VAST_VIP, VAST_USERNAME, VAST_PASSWORD")

# Endpoint for requesting S3 keys
url = f'https://{vms_vip}/api/s3keys/'

# Make the POST request to create a new S3 key
response = requests.post(url, auth=HTTPBasicAuth(username, password), verify=False)

# Check if the request was successful
if response.status_code == 200:
    # Parse the JSON response
    data = response.json()
    access_key = data.get('access_key')
    secret_key = data.get('secret_key')

    # Print the access and secret keys
    print(f'Access Key: {access_key}')
    print(f'Secret Key: {secret_key}')

    # These variables can now be used in your SDK code
else:
    print(f'Failed to get S3 keys: {response.status_code} - {response.text}')
"""


@pytest.fixture
def at_once(space: Space) -> Organization:
    KeyPolicy.objects.create(organization=space.organization, approval_required=False)
    return space.organization


def basic(user: Any) -> APIClient:
    client = APIClient()
    token = base64.b64encode(f"{user.username}:{PASSWORD}".encode()).decode()
    client.credentials(HTTP_AUTHORIZATION=f"Basic {token}")
    return client


def run_reference(live_url: str, monkeypatch: pytest.MonkeyPatch, username: str) -> str:
    monkeypatch.setenv("VAST_VIP", "unused")
    monkeypatch.setenv("VAST_USERNAME", username)
    monkeypatch.setenv("VAST_PASSWORD", PASSWORD)
    source = REFERENCE_SNIPPET.replace("f'https://{vms_vip}/api/s3keys/'", repr(f"{live_url}/api/s3keys/"))
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(source, "reference.py", "exec"), {"__name__": "reference"})  # noqa: S102
    return printed.getvalue()


@pytest.mark.postgres_only(reason="a live server thread reads committed rows; the SQLite test database is in memory")
def test_the_reference_client_gets_a_pair_and_then_the_reference_message(
    live_server: Any, member: Any, at_once: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = run_reference(live_server.url, monkeypatch, member.username)
    assert first.startswith("Access Key: SPK"), first
    secret = first.splitlines()[1].removeprefix("Secret Key: ")
    assert len(secret) == 40
    run_reference(live_server.url, monkeypatch, member.username)
    third = run_reference(live_server.url, monkeypatch, member.username)
    assert third.strip() == 'Failed to get S3 keys: 400 - {"detail":"A user cannot have more than two access keys"}'
    assert AccessKey.objects.filter(user=member).count() == 2


def test_basic_post_and_delete(member: Any, owner: Any, at_once: Any) -> None:
    client = basic(member)
    made = client.post(S3KEYS)
    assert made.status_code == 200, made.content
    assert set(made.json()) == {"access_key", "secret_key"}
    assert client.post(S3KEYS).status_code == 200
    third = client.post(S3KEYS)
    assert third.status_code == 400
    assert third.json() == LIMIT

    access_key = made.json()["access_key"]
    stranger = basic(owner).delete(S3KEYS, {"access_key": access_key}, format="json")
    assert stranger.status_code == 404
    assert "detail" in stranger.json()
    deleted = client.delete(S3KEYS, {"access_key": access_key}, format="json")
    assert deleted.status_code == 204
    assert not AccessKey.objects.filter(access_key_id=access_key).exists()
    assert client.delete(S3KEYS, {}, format="json").status_code == 400
    assert client.post(S3KEYS).status_code == 200


def test_a_token_and_a_wrong_password(member: Any, at_once: Any) -> None:
    _, plaintext = ApiToken.issue(member, name="scripts")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {plaintext}")
    assert client.post(S3KEYS).status_code == 200
    wrong = APIClient()
    wrong.credentials(HTTP_AUTHORIZATION="Basic " + base64.b64encode(b"member@example.com:wrong").decode())
    assert wrong.post(S3KEYS).status_code in (401, 403)
    assert APIClient().post(S3KEYS).status_code in (401, 403)
    assert AccessKey.objects.count() == 1


def test_approval_required_answers_403_saying_to_request(member: Any, space: Space) -> None:
    refused = basic(member).post(S3KEYS)
    assert refused.status_code == 403
    assert "request one" in refused.json()["detail"]
    assert not AccessKey.objects.exists()


def test_several_organizations_need_a_name(member: Any, at_once: Any) -> None:
    globex = create_organization(name="globex", display_name="Globex")
    Grant.objects.create(user=member, scope=Scope.ORGANIZATION, role=Role.ACCESS, organization=globex)
    client = basic(member)
    unnamed = client.post(S3KEYS)
    assert unnamed.status_code == 400
    assert "name one in 'organization'" in unnamed.json()["detail"]
    named = client.post(S3KEYS, {"organization": "acme"}, format="json")
    assert named.status_code == 200
    assert AccessKey.objects.get().organization == at_once


def test_a_bearer_jwt_with_the_organizations_role_claim(
    settings: Any, identity_provider: IdentityProvider, at_once: Organization
) -> None:
    """The caller belongs to acme only through the role claims of their token: that is enough here."""
    settings.OIDC_ISSUER = identity_provider.issuer
    settings.OIDC_AUDIENCE = identity_provider.client_id
    caches = copy.deepcopy(settings.CACHES)
    caches["default"]["KEY_PREFIX"] = f"test-s3keys-{uuid.uuid4().hex}"
    settings.CACHES = caches
    identity_provider.set_roles(identity_provider.username, ["org_acme_access"])
    token = identity_provider.tokens()["access_token"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    made = client.post(S3KEYS)
    assert made.status_code == 200, made.content
    key = AccessKey.objects.get(access_key_id=made.json()["access_key"])
    assert key.organization == at_once and key.user.email == identity_provider.email
