"""The organization endpoints: who may see and change what, and how bad input is answered."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import override_settings

from portal.audit.models import AuditEvent
from portal.tenancy.changes import create_organization
from portal.tenancy.grants import Grant, Role, Scope
from portal.tenancy.models import LOADINGZONE, Organization, Space
from tests.conftest import assert_api_error

URL = "/api/v1/organizations/"


def organizations_snapshot() -> list[dict[str, Any]]:
    return list(Organization.objects.order_by("pk").values()) + list(Space.objects.order_by("pk").values("pk", "name"))


def test_list_shows_only_visible_organizations(api: Any, organization: Organization, outsider: Any) -> None:
    create_organization(name="other")
    response = api(organization.owners.get()).get(URL)
    assert response.status_code == 200
    assert [row["name"] for row in response.json()["results"]] == ["acme"]
    assert api(outsider).get(URL).json()["results"] == []


def test_list_filters_by_one_whole_tag(api: Any, platform_admin: Any) -> None:
    create_organization(name="alpha", tags=["lab", "eu"])
    create_organization(name="beta", tags=["Lab", "laboratory"])
    create_organization(name="gamma", tags=[])
    client = api(platform_admin)

    def names(tag: str) -> list[str]:
        return [row["name"] for row in client.get(URL, {"tag": tag}).json()["results"]]

    assert names("lab") == ["alpha"]
    assert names("Lab") == ["beta"]
    assert names("la") == []
    assert names('"lab"') == []


def test_platform_admin_sees_every_organization(api: Any, organization: Organization, platform_admin: Any) -> None:
    create_organization(name="other")
    names = [row["name"] for row in api(platform_admin).get(URL).json()["results"]]
    assert names == ["acme", "other"]


def test_detail_shows_the_callers_roles(api: Any, space: Space, owner: Any, member: Any) -> None:
    mine = api(owner).get(f"{URL}acme/").json()
    assert mine["owners"] == ["owner@example.com"]
    assert mine["my_roles"] == ["owner"]
    assert mine["my_access"] == "admin"
    theirs = api(member).get(f"{URL}acme/").json()
    assert theirs["my_roles"] == ["access"]
    assert theirs["my_access"] == "member"


def test_outsider_gets_404_for_acme(api: Any, organization: Organization, outsider: Any) -> None:
    assert_api_error(api(outsider).get(f"{URL}acme/"), 404)
    assert_api_error(api(outsider).get(f"{URL}nosuchorg/"), 404)


def test_anonymous_callers_are_refused(api: Any, organization: Organization) -> None:
    assert_api_error(api(None).get(URL), 401)


def test_platform_admin_creates_an_organization_and_owns_it(api: Any, platform_admin: Any, owner: Any) -> None:
    response = api(platform_admin).post(
        URL,
        {
            "name": "beta",
            "display_name": "Beta",
            "confidentiality": "PRIVATE",
            "tags": ["lab"],
            "owners": [owner.email],
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    beta = Organization.objects.get(name="beta")
    assert beta.confidentiality == "PRIVATE"
    assert beta.tags == ["lab"]
    assert set(beta.owners.values_list("email", flat=True)) == {"root@example.com", "owner@example.com"}
    assert list(beta.spaces.values_list("name", flat=True)) == [LOADINGZONE]
    assert response.json()["state"] == "OPEN"


def test_organization_creators_may_create(api: Any, member: Any) -> None:
    Grant.objects.create(user=member, scope=Scope.PLATFORM, role=Role.ORG_CREATOR)
    response = api(member).post(URL, {"name": "gamma"}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["confidentiality"] == "INTERNAL"
    assert list(Organization.objects.get(name="gamma").owners.all()) == [member]


@pytest.mark.parametrize("actor", ["owner", "member", "outsider"])
def test_others_may_not_create_organizations(api: Any, organization: Organization, actor: str, request: Any) -> None:
    user = request.getfixturevalue(actor)
    before = organizations_snapshot()
    assert_api_error(api(user).post(URL, {"name": "beta"}, format="json"), 403)
    assert organizations_snapshot() == before
    denied = AuditEvent.objects.get(outcome="denied")
    assert (denied.action, denied.actor) == ("organization.create", user)


def test_owner_updates_the_organization(api: Any, organization: Organization, owner: Any, member: Any) -> None:
    response = api(owner).patch(
        f"{URL}acme/",
        {"description": "Updated", "state": "LOCKED", "owners": [owner.email, member.email]},
        format="json",
    )
    assert response.status_code == 200, response.content
    organization.refresh_from_db()
    assert (organization.description, organization.state) == ("Updated", "LOCKED")
    assert set(organization.owners.all()) == {owner, member}


def test_org_admin_updates_the_organization(api: Any, organization: Organization, member: Any) -> None:
    Grant.objects.create(user=member, scope=Scope.ORGANIZATION, role=Role.ADMIN, organization=organization)
    assert api(member).patch(f"{URL}acme/", {"display_name": "ACME"}, format="json").status_code == 200
    organization.refresh_from_db()
    assert organization.display_name == "ACME"


def test_member_without_admin_may_not_update_or_delete(api: Any, space: Space, member: Any) -> None:
    before = organizations_snapshot()
    assert_api_error(api(member).patch(f"{URL}acme/", {"description": "mine"}, format="json"), 403)
    assert_api_error(api(member).delete(f"{URL}acme/"), 403)
    assert organizations_snapshot() == before
    actions = list(AuditEvent.objects.filter(outcome="denied").values_list("action", "actor__email"))
    assert sorted(actions) == [("organization.delete", member.email), ("organization.update", member.email)]


def test_outsider_writes_get_404_and_are_recorded(api: Any, organization: Organization, outsider: Any) -> None:
    before = organizations_snapshot()
    assert_api_error(api(outsider).patch(f"{URL}acme/", {"description": "x"}, format="json"), 404)
    assert_api_error(api(outsider).delete(f"{URL}acme/"), 404)
    assert organizations_snapshot() == before
    assert AuditEvent.objects.filter(outcome="denied", actor=outsider, organization=organization).count() == 2


def test_delete_marks_for_deletion(api: Any, organization: Organization, owner: Any, outsider: Any) -> None:
    response = api(owner).delete(f"{URL}acme/")
    assert response.status_code == 204
    organization.refresh_from_db()
    assert organization.state == "DELETION"
    assert api(owner).get(f"{URL}acme/").json()["state"] == "DELETION"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": "Bad Name"}, "name"),
        ({"name": "ab"}, "name"),
        ({"name": "org"}, "name"),
        ({"name": "acme"}, "name"),
        ({}, "name"),
        ({"name": "beta", "confidentiality": "SECRET"}, "confidentiality"),
        ({"name": "beta", "state": "FROZEN"}, "state"),
        ({"name": "beta", "state": "DELETION"}, "state"),
        ({"name": "beta", "owners": ["nobody@example.com"]}, "owners"),
        ({"name": "beta", "tags": "lab"}, "tags"),
        ({"name": "beta", "tags": [{"x": 1}]}, "tags.0"),
    ],
)
def test_bad_input_on_create_names_the_field(
    api: Any, organization: Organization, platform_admin: Any, payload: dict[str, Any], field: str
) -> None:
    before = organizations_snapshot()
    assert_api_error(api(platform_admin).post(URL, payload, format="json"), 400, field)
    assert organizations_snapshot() == before


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": "renamed"}, "name"),
        ({"confidentiality": "TOPSECRET"}, "confidentiality"),
        ({"state": "DELETION"}, "state"),
        ({"description": "x" * 4001}, "description"),
    ],
)
def test_bad_input_on_update_names_the_field(
    api: Any, organization: Organization, owner: Any, payload: dict[str, Any], field: str
) -> None:
    before = organizations_snapshot()
    assert_api_error(api(owner).patch(f"{URL}acme/", payload, format="json"), 400, field)
    assert organizations_snapshot() == before


def test_patch_with_the_same_name_is_accepted(api: Any, organization: Organization, owner: Any) -> None:
    assert api(owner).patch(f"{URL}acme/", {"name": "acme", "display_name": "Acme"}, format="json").status_code == 200


def test_malformed_json_is_a_400_naming_the_body(api: Any, platform_admin: Any) -> None:
    response = api(platform_admin).post(URL, '{"name": "beta",', content_type="application/json")
    assert_api_error(response, 400, "body")
    assert response.json()["error"] == "parse_error"
    assert not Organization.objects.exists()


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1024)
def test_oversized_body_is_a_413(api: Any, platform_admin: Any) -> None:
    body = json.dumps({"name": "beta", "description": "x" * 2000})
    response = api(platform_admin).post(URL, body, content_type="application/json")
    assert_api_error(response, 413, "body")
    assert response.json()["error"] == "request_too_large"
    assert not Organization.objects.exists()


def test_filters_search_and_pagination(api: Any, platform_admin: Any) -> None:
    for index in range(5):
        create_organization(name=f"org{index}x", confidentiality="PUBLIC" if index % 2 else "INTERNAL")
    client = api(platform_admin)
    page = client.get(URL, {"page_size": 2, "page": 2}).json()
    assert page["count"] == 5
    assert [row["name"] for row in page["results"]] == ["org2x", "org3x"]
    public = client.get(URL, {"confidentiality": "PUBLIC"}).json()["results"]
    assert [row["name"] for row in public] == ["org1x", "org3x"]
    assert [row["name"] for row in client.get(URL, {"search": "org4"}).json()["results"]] == ["org4x"]
    assert client.get(URL, {"ordering": "-name"}).json()["results"][0]["name"] == "org4x"
    assert_api_error(client.get(URL, {"confidentiality": "SECRET"}), 400, "confidentiality")
    assert_api_error(client.get(URL, {"page": 99}), 404)


def test_writes_are_audited_with_actor_and_request_id(api: Any, platform_admin: Any) -> None:
    client = api(platform_admin)
    client.post(URL, {"name": "beta"}, format="json", HTTP_X_REQUEST_ID="req-create-0001")
    client.patch(f"{URL}beta/", {"description": "d"}, format="json", HTTP_X_REQUEST_ID="req-update-0001")
    client.delete(f"{URL}beta/", HTTP_X_REQUEST_ID="req-delete-0001")
    events = AuditEvent.objects.filter(target_type="portal.organization").order_by("id")
    assert [(e.action, e.actor, e.request_id) for e in events] == [
        ("organization.create", platform_admin, "req-create-0001"),
        ("organization.owners.add", platform_admin, "req-create-0001"),
        ("organization.update", platform_admin, "req-update-0001"),
        ("organization.update", platform_admin, "req-delete-0001"),
    ]
    assert events[3].details["changes"]["state"] == {"from": "OPEN", "to": "DELETION"}


def test_unknown_endpoints_answer_in_the_error_shape(api: Any, owner: Any) -> None:
    assert_api_error(api(owner).get("/api/v1/nothing-here/"), 404)
    assert_api_error(api(owner).post("/api/v1/organizations/acme/whatever/", {}, format="json"), 404)
    assert api(owner).get("/api/v1/me").status_code == 301


def test_unsupported_methods_and_media_types_answer_in_the_error_shape(
    api: Any, organization: Organization, owner: Any
) -> None:
    assert_api_error(api(owner).put(f"{URL}acme/", {"name": "acme"}, format="json"), 405)
    response = api(owner).patch(f"{URL}acme/", "description=x", content_type="application/x-www-form-urlencoded")
    assert_api_error(response, 415, "body")
