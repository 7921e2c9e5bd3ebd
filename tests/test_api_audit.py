"""The audit trail endpoint (platform admins only) and the OpenAPI schema."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import yaml
from django.utils import timezone

from portal.audit.models import AuditEvent
from portal.audit.trail import record
from portal.tenancy.models import Organization, Space

URL = "/api/v1/audit-events/"


@pytest.mark.parametrize("actor", ["owner", "member", "outsider"])
def test_only_platform_admins_read_the_trail(api: Any, space: Space, actor: str, request: Any) -> None:
    event = AuditEvent.objects.first()
    assert event is not None
    client = api(request.getfixturevalue(actor))
    for response in (client.get(URL), client.get(f"{URL}{event.pk}/")):
        assert response.status_code == 403
        assert response.json()["error"] == "permission_denied"


def test_the_trail_is_read_only(api: Any, space: Space, platform_admin: Any) -> None:
    event = AuditEvent.objects.first()
    assert event is not None
    client = api(platform_admin)
    assert client.post(URL, {"action": "x"}, format="json").status_code == 405
    assert client.delete(f"{URL}{event.pk}/").status_code == 405
    assert client.patch(f"{URL}{event.pk}/", {"action": "x"}, format="json").status_code == 405
    assert AuditEvent.objects.filter(pk=event.pk, action=event.action).exists()


def test_filters(api: Any, space: Space, owner: Any, member: Any, platform_admin: Any) -> None:
    organization = space.organization
    record("space.update", space, outcome="denied", actor=member)
    old = record("organization.update", organization, actor=owner)
    AuditEvent.objects.filter(pk=old.pk).update(time=timezone.now() - dt.timedelta(days=10))
    client = api(platform_admin)

    def actions(**params: Any) -> list[str]:
        response = client.get(URL, params)
        assert response.status_code == 200, response.content
        return [row["action"] for row in response.json()["results"]]

    assert actions(outcome="denied") == ["space.update"]
    assert actions(actor="MEMBER@example.com") == ["space.update"]
    assert actions(action="organization.update") == ["organization.update"]
    assert set(actions(target_type="portal.space", organization="acme")) == {"space.create", "space.update"}
    assert actions(until=(timezone.now() - dt.timedelta(days=1)).isoformat()) == ["organization.update"]
    assert "organization.update" not in actions(since=(timezone.now() - dt.timedelta(days=1)).isoformat())
    page = client.get(URL, {"page_size": 1}).json()
    assert page["count"] == AuditEvent.objects.count() > 1
    assert len(page["results"]) == 1
    response = client.get(URL, {"outcome": "maybe"})
    assert response.status_code == 400
    assert "outcome" in response.json()["fields"]


def test_detail_shows_one_event(api: Any, organization: Organization, platform_admin: Any) -> None:
    event = AuditEvent.objects.get(action="organization.create")
    body = api(platform_admin).get(f"{URL}{event.pk}/").json()
    assert (body["action"], body["organization"], body["target_type"]) == (
        "organization.create",
        "acme",
        "portal.organization",
    )


def test_schema_lists_every_endpoint(api: Any, outsider: Any) -> None:
    response = api(outsider).get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi")
    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    paths = schema["paths"]
    expected = {
        "/api/v1/organizations/": {"get", "post"},
        "/api/v1/organizations/{name}/": {"get", "patch", "delete"},
        "/api/v1/organizations/{organization_name}/spaces/": {"get", "post"},
        "/api/v1/organizations/{organization_name}/spaces/{name}/": {"get", "patch", "delete"},
        "/api/v1/spaces/": {"get"},
        "/api/v1/grants/": {"get", "post"},
        "/api/v1/grants/{id}/": {"get", "delete"},
        "/api/v1/audit-events/": {"get"},
        "/api/v1/audit-events/{id}/": {"get"},
        "/api/v1/tokens/": {"get", "post"},
        "/api/v1/tokens/{id}/": {"get", "delete"},
        "/api/v1/me/": {"get"},
    }
    for path, methods in expected.items():
        assert path in paths, path
        assert set(paths[path]) >= methods, path
    grant_request = paths["/api/v1/grants/"]["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert set(schema["components"]["schemas"][grant_request.rsplit("/", 1)[1]]["properties"]) == {
        "user",
        "group",
        "scope",
        "role",
        "organization",
        "space",
    }
    issued = paths["/api/v1/tokens/"]["post"]["responses"]["201"]["content"]["application/json"]["schema"]["$ref"]
    assert "key" in schema["components"]["schemas"][issued.rsplit("/", 1)[1]]["properties"]
    listed = schema["components"]["schemas"]["ApiToken"]["properties"]
    assert "key" not in listed
    assert {"apiToken", "oidcBearer"} <= set(schema["components"]["securitySchemes"])
    patch_errors = paths["/api/v1/organizations/{name}/"]["patch"]["responses"]
    assert {"400", "403", "404"} <= set(patch_errors)
    assert patch_errors["400"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ApiError"}
    assert set(schema["components"]["schemas"]["ApiError"]["required"]) == {"error", "message", "fields"}


def test_swagger_ui_is_served(api: Any, outsider: Any) -> None:
    response = api(outsider).get("/api/docs/")
    assert response.status_code == 200
    # The page's own script (a separate file, as the Content-Security-Policy wants) loads the schema.
    assert b'src="/api/docs/?script="' in response.content
    script = api(outsider).get("/api/docs/", {"script": ""})
    assert script.status_code == 200
    assert b"/api/schema/" in script.content
