"""The audit trail: changes are recorded with their diff, secrets never are."""

from __future__ import annotations

import json
from typing import Any

from django.test import RequestFactory

from portal.audit.context import RequestContextMiddleware
from portal.audit.models import AuditEvent
from portal.audit.trail import MASK, mask_secrets, record
from portal.tenancy.models import Organization, Space


def test_secrets_are_masked_by_key_and_by_shape() -> None:
    details = {
        "name": "prod",
        "client_secret": "s3cr3t",
        "nested": {"AccountKey": "abc", "list": ["DefaultEndpointsProtocol=https;AccountKey=abc==;"]},
        "token": "",
        "url": "https://x.blob.core.windows.net/c?sv=2024&sig=abcdef",
        "pem": "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----",
        "note": "spt_" + "a" * 40,
    }
    masked = mask_secrets(details)
    assert masked["name"] == "prod"
    assert masked["client_secret"] == MASK
    assert masked["nested"]["AccountKey"] == MASK
    assert masked["nested"]["list"] == [MASK]
    assert masked["token"] == ""
    assert masked["url"] == MASK
    assert masked["pem"] == MASK
    assert masked["note"] == MASK
    for secret in ("s3cr3t", "abc==", "abcdef", "MIIE", "a" * 40):
        assert secret not in json.dumps(masked)


def test_an_update_records_what_changed(organization: Organization) -> None:
    organization.description = "Now with a description"
    organization.save()
    event = AuditEvent.objects.filter(action="organization.update").get()
    assert event.details["changes"] == {"description": {"from": "", "to": "Now with a description"}}
    assert event.organization == organization


def test_a_save_without_changes_records_nothing(organization: Organization) -> None:
    before = AuditEvent.objects.count()
    organization.save()
    assert AuditEvent.objects.count() == before


def test_deleting_an_organization_keeps_the_trail(organization: Organization) -> None:
    name = organization.name
    organization.delete()
    deleted = AuditEvent.objects.filter(action__endswith=".delete")
    assert {e.action for e in deleted} == {"organization.delete", "space.delete"}
    assert all(e.organization is None and e.organization_name == name for e in deleted)
    assert AuditEvent.objects.filter(action="organization.create", organization_name=name).exists()


def test_events_carry_actor_address_and_request_id(space: Space, member: Any) -> None:
    request = RequestFactory().post("/", REMOTE_ADDR="203.0.113.7", HTTP_X_REQUEST_ID="req-1234567890")
    request.user = member
    seen: dict[str, AuditEvent] = {}

    def view(req: Any) -> Any:
        from django.http import HttpResponse

        seen["event"] = record("credential.issue", space, details={"access": "read", "sas": "sig=abc"})
        return HttpResponse()

    response = RequestContextMiddleware(view)(request)
    event = seen["event"]
    assert response["X-Request-ID"] == "req-1234567890"
    assert event.actor == member
    assert event.actor_label == member.email
    assert event.ip_address == "203.0.113.7"
    assert event.request_id == "req-1234567890"
    assert event.organization == space.organization
    assert event.details == {"access": "read", "sas": MASK}


def test_a_malformed_request_id_is_replaced(db: None) -> None:
    from django.http import HttpResponse

    request = RequestFactory().get("/", HTTP_X_REQUEST_ID="bad id\nwith newline")
    response = RequestContextMiddleware(lambda req: HttpResponse())(request)
    assert response["X-Request-ID"] != "bad id\nwith newline"
    assert len(response["X-Request-ID"]) == 32
