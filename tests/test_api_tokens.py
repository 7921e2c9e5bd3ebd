"""Personal API tokens and ``/me/``: a key is shown once, stored hashed, and works as ``Token <key>``."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from portal.audit.models import AuditEvent
from portal.auth.models import ApiToken, hash_token
from portal.tenancy.grants import Grant, Role, Scope
from portal.tenancy.models import Space
from tests.conftest import assert_api_error

URL = "/api/v1/tokens/"


def test_a_token_is_shown_once_stored_hashed_and_signs_requests_in(api: Any, space: Space, member: Any) -> None:
    response = api(member).post(URL, {"name": "pipeline"}, format="json")
    assert response.status_code == 201, response.content
    key = response.json()["key"]
    assert key.startswith("spt_")
    token = ApiToken.objects.get(pk=response.json()["id"])
    assert token.key_hash == hash_token(key)
    assert key not in str(ApiToken.objects.filter(pk=token.pk).values().get())

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    me = client.get("/api/v1/me/")
    assert me.status_code == 200
    assert me.json()["email"] == "member@example.com"
    listed = client.get(URL).json()["results"]
    assert [row["name"] for row in listed] == ["pipeline"]
    assert "key" not in listed[0]
    assert "key" not in client.get(f"{URL}{token.pk}/").json()
    assert key not in client.get(URL).content.decode()
    token.refresh_from_db()
    assert token.last_used is not None


def test_token_creation_is_audited_without_the_key(api: Any, member: Any) -> None:
    key = api(member).post(URL, {"name": "ci"}, format="json").json()["key"]
    event = AuditEvent.objects.get(action="apitoken.create")
    assert event.actor == member
    assert key not in str(event.details)
    assert event.details["fields"]["key_hash"] == "********"


def test_a_wrong_or_expired_token_is_refused(api: Any, member: Any) -> None:
    _, key = ApiToken.issue(member, "old", expires=timezone.now() - dt.timedelta(minutes=1))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert_api_error(client.get("/api/v1/me/"), 401)
    client.credentials(HTTP_AUTHORIZATION="Token spt_not-a-real-key")
    assert_api_error(client.get("/api/v1/me/"), 401)


def test_callers_see_and_delete_only_their_own_tokens(api: Any, member: Any, outsider: Any) -> None:
    theirs, _ = ApiToken.issue(outsider, "theirs")
    mine, _ = ApiToken.issue(member, "mine")
    client = api(member)
    assert [row["name"] for row in client.get(URL).json()["results"]] == ["mine"]
    assert_api_error(client.get(f"{URL}{theirs.pk}/"), 404)
    assert_api_error(client.delete(f"{URL}{theirs.pk}/"), 404)
    assert ApiToken.objects.filter(pk=theirs.pk).exists()
    assert client.delete(f"{URL}{mine.pk}/").status_code == 204
    assert not ApiToken.objects.filter(pk=mine.pk).exists()
    assert AuditEvent.objects.get(action="apitoken.delete").actor == member


def test_tokens_per_user_are_capped(api: Any, member: Any, settings: Any) -> None:
    settings.SPACEPORT_API_TOKEN_MAX_PER_USER = 2
    client = api(member)
    assert client.post(URL, {"name": "one"}, format="json").status_code == 201
    assert client.post(URL, {"name": "two"}, format="json").status_code == 201
    response = client.post(URL, {"name": "three"}, format="json")
    assert_api_error(response, 400, "non_field_errors")
    assert response.json()["error"] == "token_limit"
    assert ApiToken.objects.filter(user=member).count() == 2


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"name": "late", "expires": "2001-01-01T00:00:00Z"}, "expires"),
        ({"name": "odd", "expires": "next tuesday"}, "expires"),
    ],
)
def test_bad_token_requests_name_the_field(api: Any, member: Any, payload: dict[str, Any], field: str) -> None:
    assert_api_error(api(member).post(URL, payload, format="json"), 400, field)
    assert not ApiToken.objects.exists()


def test_me_lists_the_callers_roles(api: Any, space: Space, member: Any, owner: Any) -> None:
    Grant.objects.create(user=member, scope=Scope.PUBLIC, role=Role.SPC_ALL_PUBLIC)
    me = api(member).get("/api/v1/me/").json()
    assert (me["email"], me["platform_admin"], me["may_create_organization"]) == ("member@example.com", False, False)
    assert me["owned_organizations"] == []
    assert me["roles"] == [
        {"scope": "organization", "role": "access", "organization": "acme", "space": None},
        {"scope": "public", "role": "spc_all_public", "organization": None, "space": None},
        {"scope": "space", "role": "supplier", "organization": "acme", "space": "raw"},
    ]
    assert api(owner).get("/api/v1/me/").json()["owned_organizations"] == ["acme"]


def test_me_shows_platform_admins(api: Any, platform_admin: Any) -> None:
    me = api(platform_admin).get("/api/v1/me/").json()
    assert (me["platform_admin"], me["may_create_organization"]) == (True, True)


def test_me_needs_a_signed_in_caller(api: Any) -> None:
    assert_api_error(api(None).get("/api/v1/me/"), 401)
