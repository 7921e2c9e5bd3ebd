"""The native credentials API: the rules, the connection's state, limits and audit, before any vendor runs."""

from __future__ import annotations

from typing import Any

import pytest

from connections.models import CloudConnection, Status
from portal.audit import journal
from portal.audit.models import AuditEvent
from portal.tenancy.models import Organization, Space
from tests.valid_connections import valid_connection

URL = "/api/v1/organizations/acme/spaces/{space}/credentials/"


@pytest.fixture
def connection(organization: Organization) -> CloudConnection:
    return valid_connection(organization)


def post(api: Any, user: Any, space: str = "raw", **body: Any) -> Any:
    return api(user).post(URL.format(space=space), body, format="json")


def test_a_space_the_caller_cannot_see_is_not_found(api: Any, outsider: Any, space: Space) -> None:
    assert post(api, outsider, access="read").status_code == 404


def test_more_than_the_role_allows_is_refused_and_audited(
    api: Any, member: Any, space: Space, connection: CloudConnection
) -> None:
    response = post(api, member, access="delete")
    assert response.status_code == 403
    assert response.json()["error"] == "delete_denied"
    journal.drain()
    event = AuditEvent.objects.get(action="credential.refuse")
    assert event.outcome == "denied"
    assert event.actor == member
    assert event.details["reason"] == "delete_denied"


def test_an_organization_without_storage_says_so(api: Any, member: Any, space: Space) -> None:
    response = post(api, member, access="read")
    assert response.status_code == 409
    assert response.json()["error"] == "no_connection"


@pytest.mark.parametrize(
    ("state", "code"), [(Status.DISABLED, "connection_disabled"), (Status.INVALID, "connection_invalid")]
)
def test_a_connection_that_cannot_be_used_says_what_to_do(
    api: Any, member: Any, space: Space, connection: CloudConnection, state: str, code: str
) -> None:
    CloudConnection.objects.filter(pk=connection.pk).update(status=state)
    response = post(api, member, access="read")
    assert response.status_code == 409
    assert response.json()["error"] == code
    assert "admin" in response.json()["message"] or "disabled" in response.json()["message"]


def test_a_lifetime_over_the_maximum_names_the_field(
    api: Any, member: Any, space: Space, connection: CloudConnection, settings: Any
) -> None:
    settings.SPACEPORT_CREDENTIAL_MAX_LIFETIME_MINUTES = {"read": 30, "write": 15, "delete": 5}
    response = post(api, member, access="write", lifetime_minutes=16)
    assert response.status_code == 400
    assert "lifetime_minutes" in response.json()["fields"]
    assert "15" in response.json()["message"]


def test_bad_requests_name_the_field(api: Any, member: Any, space: Space, connection: CloudConnection) -> None:
    response = post(api, member, access="everything")
    assert response.status_code == 400
    assert "access" in response.json()["fields"]
    response = post(api, member, access="read", lifetime_minutes=0)
    assert "lifetime_minutes" in response.json()["fields"]
    response = post(api, member, access="read", target="elsewhere")
    assert "target" in response.json()["fields"]


def test_the_rate_limit_answers_429_with_retry_after(
    api: Any, member: Any, space: Space, connection: CloudConnection, settings: Any
) -> None:
    settings.SPACEPORT_CREDENTIAL_RATE_LIMIT_PER_MINUTE = 0
    response = post(api, member, access="read")
    assert response.status_code == 429
    assert response.json()["error"] == "throttled"
    assert 0 < int(response["Retry-After"]) <= 60


def test_a_cached_credential_is_reused_only_with_the_time_left_asked_for(
    api: Any, member: Any, space: Space, connection: CloudConnection
) -> None:
    """Tools that refresh a set time before expiry (botocore: 15 minutes) say so, and get a fresh one."""
    first = post(api, member, access="read", lifetime_minutes=30)
    assert (first.status_code, first.json()["cached"]) == (201, False)
    again = post(api, member, access="read", lifetime_minutes=30, min_remaining_minutes=20)
    assert (again.json()["cached"], again.json()["expires_at"]) == (True, first.json()["expires_at"])
    fresh = post(api, member, access="read", lifetime_minutes=30, min_remaining_minutes=30)
    assert fresh.json()["cached"] is False
    assert fresh.json()["expires_at"] >= first.json()["expires_at"]
    assert post(api, member, access="read", min_remaining_minutes=-1).status_code == 400
    too_long = post(api, member, access="read", min_remaining_minutes=100_000)
    assert "min_remaining_minutes" in too_long.json()["fields"]
