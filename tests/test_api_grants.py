"""The grant endpoints: who may see, give and take back which roles."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Group

from portal.audit.models import AuditEvent
from portal.tenancy.changes import create_organization, create_space
from portal.tenancy.grants import Grant, Role, Scope
from portal.tenancy.models import Organization, Space
from tests.conftest import assert_api_error

URL = "/api/v1/grants/"


@pytest.fixture
def other_space(db: None) -> Space:
    """A space in another organization, ``other/raw``, where nobody from acme holds a role."""
    return create_space(create_organization(name="other"), name="raw")


def grants_snapshot() -> list[dict[str, Any]]:
    return list(Grant.objects.order_by("pk").values())


def space_grant(user: str = "outsider@example.com", **overrides: Any) -> dict[str, Any]:
    return {"user": user, "scope": "space", "role": "supplier", "organization": "acme", "space": "raw", **overrides}


def test_owner_grants_a_space_role(api: Any, space: Space, owner: Any, outsider: Any) -> None:
    response = api(owner).post(URL, space_grant(), format="json", HTTP_X_REQUEST_ID="req-grant-00001")
    assert response.status_code == 201, response.content
    body = response.json()
    assert {key: body[key] for key in ("user", "scope", "role", "organization", "space", "source", "granted_by")} == {
        "user": "outsider@example.com",
        "scope": "space",
        "role": "supplier",
        "organization": "acme",
        "space": "raw",
        "source": "manual",
        "granted_by": "owner@example.com",
    }
    grant = Grant.objects.get(pk=body["id"])
    assert (grant.user, grant.space, grant.granted_by) == (outsider, space, owner)
    event = AuditEvent.objects.get(action="grant.create", target_id=str(grant.pk))
    assert (event.actor, event.request_id, event.organization) == (owner, "req-grant-00001", space.organization)


def test_owner_grants_an_organization_role_to_a_group(api: Any, organization: Organization, owner: Any) -> None:
    Group.objects.create(name="analysts")
    payload = {"group": "analysts", "scope": "organization", "role": "access", "organization": "acme"}
    response = api(owner).post(URL, payload, format="json")
    assert response.status_code == 201, response.content
    assert Grant.objects.get(pk=response.json()["id"]).group.name == "analysts"


@pytest.mark.parametrize("actor", ["member", "outsider"])
def test_others_may_not_grant(api: Any, space: Space, actor: str, request: Any) -> None:
    user = request.getfixturevalue(actor)
    before = grants_snapshot()
    response = api(user).post(URL, space_grant(user="owner@example.com"), format="json")
    if actor == "member":
        assert_api_error(response, 403)
        denied = AuditEvent.objects.get(outcome="denied")
        assert (denied.action, denied.actor, denied.organization) == ("grant.create", user, space.organization)
    else:
        assert_api_error(response, 400, "organization")
    assert grants_snapshot() == before


def test_only_platform_admins_grant_platform_roles(
    api: Any, organization: Organization, owner: Any, member: Any, platform_admin: Any
) -> None:
    payload = {"user": member.email, "scope": "platform", "role": "org_creator"}
    before = grants_snapshot()
    assert_api_error(api(owner).post(URL, payload, format="json"), 403)
    assert grants_snapshot() == before
    assert api(platform_admin).post(URL, payload, format="json").status_code == 201


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        (space_grant(space="nosuchspace"), "space"),
        (space_grant(organization=None), "organization"),
        (space_grant(organization="nosuchorg"), "organization"),
        (space_grant(user="nobody@example.com"), "user"),
        (space_grant(role="admin"), "role"),
        (space_grant(role="overlord"), "role"),
        (space_grant(scope="galaxy"), "scope"),
        (space_grant(user=None), "user"),
        ({**space_grant(), "group": "nosuchgroup"}, "group"),
        (space_grant(user="member@example.com"), "role"),
    ],
)
def test_bad_grants_name_the_field(
    api: Any, space: Space, other_space: Space, platform_admin: Any, outsider: Any, payload: dict[str, Any], field: str
) -> None:
    before = grants_snapshot()
    assert_api_error(api(platform_admin).post(URL, payload, format="json"), 400, field)
    assert grants_snapshot() == before


def test_granting_in_another_organizations_space_is_refused(
    api: Any, space: Space, other_space: Space, owner: Any, outsider: Any
) -> None:
    """A space is looked up in the organization named with it, and only organizations the caller sees are found."""
    other_only = create_space(other_space.organization, name="archive")
    before = grants_snapshot()
    response = api(owner).post(URL, space_grant(space=other_only.name), format="json")
    assert_api_error(response, 400, "space")
    response = api(owner).post(URL, space_grant(organization="other", space=other_only.name), format="json")
    assert_api_error(response, 400, "organization")
    assert grants_snapshot() == before


def test_visibility_of_grants(
    api: Any, space: Space, other_space: Space, owner: Any, member: Any, outsider: Any, platform_admin: Any
) -> None:
    Grant.objects.create(
        user=outsider, scope=Scope.ORGANIZATION, role=Role.ACCESS, organization=other_space.organization
    )
    group = Group.objects.create(name="readers")
    member.groups.add(group)
    group_grant = Grant.objects.create(group=group, scope=Scope.PUBLIC, role=Role.SPC_ALL_PUBLIC)

    def seen(user: Any) -> set[tuple[str | None, str]]:
        rows = api(user).get(URL).json()["results"]
        return {(row["user"] or row["group"], row["role"]) for row in rows}

    assert seen(platform_admin) == {
        ("member@example.com", "access"),
        ("member@example.com", "supplier"),
        ("outsider@example.com", "access"),
        ("readers", "spc_all_public"),
    }
    assert seen(owner) == {("member@example.com", "access"), ("member@example.com", "supplier")}
    assert seen(member) == {
        ("member@example.com", "access"),
        ("member@example.com", "supplier"),
        ("readers", "spc_all_public"),
    }
    assert seen(outsider) == {("outsider@example.com", "access")}
    assert api(member).get(f"{URL}{group_grant.pk}/").status_code == 200
    assert_api_error(api(outsider).get(f"{URL}{group_grant.pk}/"), 404)


def test_filters(api: Any, space: Space, other_space: Space, platform_admin: Any, outsider: Any) -> None:
    Grant.objects.create(
        user=outsider, scope=Scope.SPACE, role=Role.USER, organization=other_space.organization, space=other_space
    )
    client = api(platform_admin)

    def roles(**params: Any) -> list[tuple[str, str]]:
        return sorted((row["user"], row["role"]) for row in client.get(URL, params).json()["results"])

    assert roles(organization="acme") == [("member@example.com", "access"), ("member@example.com", "supplier")]
    assert roles(space="raw", organization="other") == [("outsider@example.com", "user")]
    assert roles(user="OUTSIDER@example.com") == [("outsider@example.com", "user")]
    assert roles(scope="organization") == [("member@example.com", "access")]
    assert roles(role="supplier", source="manual") == [("member@example.com", "supplier")]
    assert roles(source="sso") == []
    page = client.get(URL, {"page_size": 1}).json()
    assert (page["count"], len(page["results"])) == (3, 1)
    assert_api_error(client.get(URL, {"scope": "galaxy"}), 400, "scope")


def test_owner_revokes_a_grant(api: Any, space: Space, owner: Any, member: Any) -> None:
    grant = Grant.objects.get(user=member, role=Role.SUPPLIER)
    assert api(owner).delete(f"{URL}{grant.pk}/").status_code == 204
    assert not Grant.objects.filter(pk=grant.pk).exists()
    event = AuditEvent.objects.get(action="grant.delete", target_id=str(grant.pk))
    assert event.actor == owner


def test_member_may_see_but_not_revoke_their_own_grant(api: Any, space: Space, member: Any) -> None:
    grant = Grant.objects.get(user=member, role=Role.SUPPLIER)
    assert api(member).get(f"{URL}{grant.pk}/").status_code == 200
    assert_api_error(api(member).delete(f"{URL}{grant.pk}/"), 403)
    assert Grant.objects.filter(pk=grant.pk).exists()
    denied = AuditEvent.objects.get(outcome="denied")
    assert (denied.action, denied.actor, denied.target_id) == ("grant.delete", member, str(grant.pk))


def test_outsider_cannot_revoke_and_gets_404(api: Any, space: Space, outsider: Any) -> None:
    grant = Grant.objects.get(role=Role.SUPPLIER)
    before = grants_snapshot()
    assert_api_error(api(outsider).delete(f"{URL}{grant.pk}/"), 404)
    assert grants_snapshot() == before
    assert AuditEvent.objects.filter(outcome="denied", action="grant.delete", actor=outsider).count() == 1
