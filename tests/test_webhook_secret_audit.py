"""Changing a commit webhook's signing secret is on the audit trail: who, when, which webhook, never the value."""

from __future__ import annotations

import ipaddress
import json
from typing import Any

import pytest
from django.urls import reverse

from commits import webhooks
from portal.audit.models import AuditEvent
from portal.core.errors import DomainError
from portal.tenancy.models import Organization
from tests.pages_support import client_for

URL = "https://127.0.0.1:9/spaceport"


@pytest.fixture(autouse=True)
def loopback_webhooks(settings: Any) -> None:
    settings.SPACEPORT_ALLOWED_PRIVATE_NETWORKS = [ipaddress.ip_network("127.0.0.0/8")]


def _secret_events() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action="webhook.secret_change").order_by("pk"))


def test_setting_and_replacing_the_secret_on_the_page_are_audited_without_the_value(
    owner: Any, organization: Organization
) -> None:
    client = client_for(owner)
    first, second = "first-signing-secret-123", "second-signing-secret-456"
    client.post(reverse("organization_webhook", args=["acme"]), {"url": URL, "secret": first, "enabled": "on"})
    client.post(reverse("organization_webhook", args=["acme"]), {"url": URL, "secret": second, "enabled": "on"})
    events = _secret_events()
    assert [event.details["replaced"] for event in events] == [False, True]
    for event in events:
        assert event.actor == owner
        assert event.organization == organization
        assert event.target_type == "commits.organizationwebhook"
        assert event.request_id
        written = json.dumps(event.details) + event.target_label
        assert first not in written
        assert second not in written


def test_saving_without_a_new_secret_records_no_secret_change(owner: Any, organization: Organization) -> None:
    webhooks.configure(organization, url=URL, secret="first-signing-secret-123")
    client_for(owner).post(reverse("organization_webhook", args=["acme"]), {"url": URL + "/v2", "enabled": "on"})
    assert len(_secret_events()) == 1


def test_a_generated_secret_is_audited_as_generated(api: Any, owner: Any, organization: Organization) -> None:
    response = api(owner).put("/api/v1/organizations/acme/webhook/", {"url": URL}, format="json")
    assert response.status_code == 200, response.content
    (event,) = _secret_events()
    assert event.details["generated"] is True
    assert event.actor == owner
    assert response.json()["generated_secret"] not in json.dumps(event.details)


def test_a_refused_secret_changes_nothing_and_records_no_change(organization: Organization) -> None:
    with pytest.raises(DomainError):
        webhooks.configure(organization, url=URL, secret="short")
    assert _secret_events() == []


def test_an_over_long_url_is_refused_by_field(organization: Organization) -> None:
    with pytest.raises(DomainError) as refused:
        webhooks.configure(organization, url="https://example.com/" + "a" * 2000, secret="x" * 20)
    assert refused.value.field == "url"
