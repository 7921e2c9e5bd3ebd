"""The space endpoints, nested under their organization and as one flat list."""

from __future__ import annotations

from typing import Any

import pytest

from portal.audit.models import AuditEvent
from portal.tenancy.changes import create_organization, create_space
from portal.tenancy.grants import Grant, Role, Scope
from portal.tenancy.models import LOADINGZONE, Organization, Space
from tests.conftest import assert_api_error

SPACES = "/api/v1/organizations/acme/spaces/"


def spaces_snapshot() -> list[dict[str, Any]]:
    return list(Space.objects.order_by("pk").values())


def test_owner_lists_every_space_with_access(api: Any, space: Space, owner: Any) -> None:
    rows = api(owner).get(SPACES).json()["results"]
    assert [(row["name"], row["organization"]) for row in rows] == [(LOADINGZONE, "acme"), ("raw", "acme")]
    assert {row["access"] for row in rows} == {"none"}


def test_member_sees_the_spaces_they_may_use(api: Any, space: Space, member: Any) -> None:
    create_space(space.organization, name="secret")
    rows = api(member).get(SPACES).json()["results"]
    assert {row["name"]: row["access"] for row in rows} == {LOADINGZONE: "delete", "raw": "write"}
    assert_api_error(api(member).get(f"{SPACES}secret/"), 404)


def test_outsider_gets_404(api: Any, space: Space, outsider: Any) -> None:
    assert_api_error(api(outsider).get(SPACES), 404)
    assert_api_error(api(outsider).get(f"{SPACES}raw/"), 404)
    assert api(outsider).get("/api/v1/spaces/").json()["results"] == []


def test_owner_creates_a_space(api: Any, organization: Organization, owner: Any) -> None:
    response = api(owner).post(
        SPACES, {"name": "cleaned", "retention_days": 30, "confidentiality": "PUBLIC", "tags": ["q1"]}, format="json"
    )
    assert response.status_code == 201, response.content
    created = organization.spaces.get(name="cleaned")
    assert (created.retention_days, created.confidentiality, created.tags) == (30, "PUBLIC", ["q1"])
    event = AuditEvent.objects.get(action="space.create", target_label="acme/cleaned")
    assert (event.actor, event.organization, event.target_id) == (owner, organization, str(created.pk))


@pytest.mark.parametrize("actor", ["member", "outsider"])
def test_others_may_not_create_spaces(api: Any, space: Space, actor: str, request: Any) -> None:
    user = request.getfixturevalue(actor)
    before = spaces_snapshot()
    response = api(user).post(SPACES, {"name": "mine"}, format="json")
    assert_api_error(response, 403 if actor == "member" else 404)
    assert spaces_snapshot() == before
    denied = AuditEvent.objects.get(outcome="denied")
    assert (denied.action, denied.actor, denied.organization) == ("space.create", user, space.organization)


def test_no_spaces_in_an_organization_marked_for_deletion(api: Any, organization: Organization, owner: Any) -> None:
    organization.state = "DELETION"
    organization.save()
    before = spaces_snapshot()
    assert_api_error(api(owner).post(SPACES, {"name": "late"}, format="json"), 400, "organization")
    assert spaces_snapshot() == before


def test_owner_updates_and_deletes_a_space(api: Any, space: Space, owner: Any, member: Any) -> None:
    client = api(owner)
    response = client.patch(f"{SPACES}raw/", {"description": "Measured", "retention_days": 7}, format="json")
    assert response.status_code == 200, response.content
    space.refresh_from_db()
    assert (space.description, space.retention_days) == ("Measured", 7)
    assert client.delete(f"{SPACES}raw/").status_code == 204
    space.refresh_from_db()
    assert space.state == "DELETION"
    assert_api_error(api(member).get(f"{SPACES}raw/"), 404)
    actions = list(AuditEvent.objects.filter(target_type="portal.space").order_by("id").values_list("action", "actor"))
    assert actions[-2:] == [("space.update", owner.pk), ("space.update", owner.pk)]


@pytest.mark.parametrize("method", ["patch", "delete"])
def test_member_without_admin_may_not_change_spaces(api: Any, space: Space, member: Any, method: str) -> None:
    before = spaces_snapshot()
    response = getattr(api(member), method)(f"{SPACES}raw/", {"description": "mine"}, format="json")
    assert_api_error(response, 403)
    assert spaces_snapshot() == before
    denied = AuditEvent.objects.get(outcome="denied")
    verb = "update" if method == "patch" else "delete"
    assert (denied.action, denied.actor, denied.target_id) == (f"space.{verb}", member, str(space.pk))


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": "raw"}, "name"),
        ({"name": LOADINGZONE}, "name"),
        ({"name": "Has Spaces"}, "name"),
        ({"name": "x"}, "name"),
        ({"name": "ok-name", "confidentiality": "SECRET"}, "confidentiality"),
        ({"name": "ok-name", "state": "GONE"}, "state"),
        ({"name": "ok-name", "retention_days": -1}, "retention_days"),
        ({"name": "ok-name", "retention_days": "forever"}, "retention_days"),
    ],
)
def test_bad_input_on_create_names_the_field(
    api: Any, space: Space, owner: Any, payload: dict[str, Any], field: str
) -> None:
    before = spaces_snapshot()
    assert_api_error(api(owner).post(SPACES, payload, format="json"), 400, field)
    assert spaces_snapshot() == before


def test_the_loadingzone_cannot_be_deleted_or_renamed(api: Any, organization: Organization, owner: Any) -> None:
    before = spaces_snapshot()
    assert_api_error(api(owner).delete(f"{SPACES}{LOADINGZONE}/"), 400, "space")
    assert_api_error(api(owner).patch(f"{SPACES}{LOADINGZONE}/", {"name": "uploads"}, format="json"), 400, "name")
    assert_api_error(api(owner).patch(f"{SPACES}{LOADINGZONE}/", {"state": "DELETION"}, format="json"), 400, "state")
    assert spaces_snapshot() == before


def test_spaces_cannot_be_renamed(api: Any, space: Space, owner: Any) -> None:
    before = spaces_snapshot()
    assert_api_error(api(owner).patch(f"{SPACES}raw/", {"name": "cooked"}, format="json"), 400, "name")
    assert spaces_snapshot() == before


def test_flat_list_filters_and_searches(api: Any, space: Space, platform_admin: Any) -> None:
    other = create_organization(name="other")
    create_space(other, name="raw", confidentiality="PUBLIC", description="Telescope frames", tags=["q1", "optics"])
    create_space(other, name="frozen", state="LOCKED", tags=["Q1", "q1-archive"])
    client = api(platform_admin)

    def names(**params: Any) -> list[str]:
        return [
            f"{row['organization']}/{row['name']}" for row in client.get("/api/v1/spaces/", params).json()["results"]
        ]

    assert names() == ["acme/loadingzone", "acme/raw", "other/frozen", "other/loadingzone", "other/raw"]
    assert names(organization="other", confidentiality="PUBLIC") == ["other/raw"]
    assert names(state="LOCKED") == ["other/frozen"]
    assert names(search="telescope") == ["other/raw"]
    assert names(search="measurements") == ["acme/raw"]
    assert names(page_size=2, page=3) == ["other/raw"]
    assert names(tag="q1") == ["other/raw"]
    assert names(tag="Q1") == ["other/frozen"]
    assert names(tag="q") == []
    assert_api_error(client.get("/api/v1/spaces/", {"state": "MELTED"}), 400, "state")


def test_flat_list_hides_other_organizations(api: Any, space: Space, member: Any) -> None:
    other = create_organization(name="other")
    create_space(other, name="public", confidentiality="PUBLIC")
    Grant.objects.create(
        user=member, scope=Scope.SPACE, role=Role.USER, organization=other, space=other.spaces.get(name="public")
    )
    names = [row["name"] for row in api(member).get("/api/v1/spaces/").json()["results"]]
    assert names == [LOADINGZONE, "raw"]


def test_outsider_writes_to_a_space_get_404_and_are_recorded_once(api: Any, space: Space, outsider: Any) -> None:
    before = spaces_snapshot()
    assert_api_error(api(outsider).patch(f"{SPACES}raw/", {"description": "x"}, format="json"), 404)
    assert_api_error(api(outsider).delete(f"{SPACES}raw/"), 404)
    assert_api_error(api(outsider).delete(f"{SPACES}nosuchspace/"), 404)
    assert spaces_snapshot() == before
    denied = AuditEvent.objects.filter(outcome="denied").order_by("id")
    assert [(event.action, event.actor, event.target_id) for event in denied] == [
        ("space.update", outsider, str(space.pk)),
        ("space.delete", outsider, str(space.pk)),
    ]
