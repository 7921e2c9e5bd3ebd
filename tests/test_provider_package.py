"""A made-up cloud, registered as one package, reaches the wizard, the API, validation and vending.

The provider lives in ``tests/example_provider/`` (descriptor, method spec and fields, client, vendor);
the test adds it to the registry and changes nothing else. Its storage is process memory: no
emulator exists for a cloud that does not exist, which is what a mock is for.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.urls import reverse

from connections.models import CloudConnection, Status
from connections.providers import registry
from portal.tenancy.models import Organization, Space
from tests.example_provider import client as example_client
from tests.example_provider import vendor as example_vendor
from tests.example_provider.descriptor import EXAMPLE
from tests.pages_support import client_for

METHOD = "example_token"
VALUES = {"name": "example", "bucket": "things", "prefix": "", "token": "ex-123"}


@pytest.fixture(autouse=True)
def example(monkeypatch: pytest.MonkeyPatch, settings: Any) -> Iterator[None]:
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.CELERY_TASK_EAGER_PROPAGATES = True
    monkeypatch.setitem(registry.PROVIDERS, EXAMPLE.key, EXAMPLE)
    example_client.OBJECTS.clear()
    example_client.CALLS.clear()
    example_vendor.ASKED.clear()
    registry.forget_clients()
    yield
    registry.forget_clients()


def onboard(owner: Any, django_capture_on_commit_callbacks: Any) -> CloudConnection:
    """Through the wizard's pages, as a customer would: choose the cloud and method, enter the details."""
    client = client_for(owner)
    chosen = client.post(reverse("connection_new_method", args=["acme", "example"]), {"method": METHOD})
    assert chosen.status_code == 302
    draft = CloudConnection.objects.get(organization__name="acme", method=METHOD)
    assert draft.provider == "example" and draft.name == "example"
    with django_capture_on_commit_callbacks(execute=True):
        saved = client.post(reverse("connection_details", args=["acme", draft.name]), VALUES)
    assert saved.status_code == 302, saved.content.decode()
    draft.refresh_from_db()
    return draft


def test_the_wizard_offers_the_new_cloud_and_its_method(owner: Any, space: Space) -> None:
    client = client_for(owner)
    clouds = client.get(reverse("connection_new", args=["acme"])).content.decode()
    assert 'data-provider="example"' in clouds and "Example Cloud" in clouds
    methods = client.get(reverse("connection_new_method", args=["acme", "example"])).content.decode()
    assert f'data-method="{METHOD}"' in methods
    assert "Paste a token from the example cloud." in methods


def test_the_api_lists_the_new_method_with_its_fields(api: Any, owner: Any) -> None:
    catalogue = api(owner).get("/api/v1/connection-methods/").json()
    example = next(item for item in catalogue if item["method"] == METHOD)
    assert example["provider"] == "example"
    assert [field["name"] for field in example["inputs"]] == ["bucket", "prefix", "token"]
    assert next(field for field in example["inputs"] if field["name"] == "token")["secret"]


def test_the_api_creates_a_connection_with_the_new_method(api: Any, owner: Any, space: Space) -> None:
    body = {"name": "made-up", "method": METHOD, "values": {"bucket": "things", "token": "ex-1"}, "validate_now": False}
    response = api(owner).post("/api/v1/organizations/acme/connections/", body, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["provider"] == "example"
    refused = {**body, "name": "bad", "values": {"bucket": "Things", "token": "nope"}}
    errors = api(owner).post("/api/v1/organizations/acme/connections/", refused, format="json").json()
    assert "bucket" in str(errors) and "token" in str(errors)


def test_validation_runs_the_new_client(owner: Any, space: Space, django_capture_on_commit_callbacks: Any) -> None:
    connection = onboard(owner, django_capture_on_commit_callbacks)
    assert connection.status == Status.VALID, connection.validation_report
    assert example_client.CALLS[:5] == ["authenticate", "list", "put", "get", "delete"]
    page = client_for(owner).get(reverse("connection", args=["acme", connection.name])).content.decode()
    assert "Example Cloud" in page or "Example token" in page


def test_vending_asks_the_new_vendor_and_returns_its_credential(
    api: Any, owner: Any, member: Any, space: Space, organization: Organization, django_capture_on_commit_callbacks: Any
) -> None:
    onboard(owner, django_capture_on_commit_callbacks)
    response = api(member).post(
        f"/api/v1/organizations/acme/spaces/{space.name}/credentials/", {"access": "read"}, format="json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["credentials"] == {"token": f"ex-read-{space.name}/"}
    assert [scope.location.prefix for scope in example_vendor.ASKED] == [f"{space.name}/"]
