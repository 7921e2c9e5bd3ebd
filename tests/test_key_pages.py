"""The "My S3 keys" page and the organization page's card of key requests: request, decide, collect
once, with the snippets pointing at the gateway; decisions only by the organization's admins."""

from __future__ import annotations

import re
from typing import Any

from django.core import mail
from django.test import Client

from accessgrants.models import AccessKey, KeyPolicy, KeyRequest
from portal.audit.models import AuditEvent
from portal.tenancy.models import Space


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_request_decide_collect_once(member: Any, owner: Any, space: Space, settings: Any) -> None:
    settings.SPACEPORT_S3_GATEWAY_URL = "https://s3.spaceport.example"
    client = signed_in(member)
    page = client.get("/keys/")
    assert page.status_code == 200
    assert "My S3 keys" in page.content.decode()
    made = client.post("/keys/", {"organization": "acme", "reason": "nightly backups", "lifetime_days": "30"})
    assert made.status_code == 302, made.content
    key_request = KeyRequest.objects.get()
    assert key_request.status == "requested"

    admin = signed_in(owner)
    card = admin.get("/o/acme/").content.decode()
    assert 'id="key-requests"' in card and "nightly backups" in card
    assert "nightly backups" not in signed_in(member).get("/o/acme/").content.decode()
    decided = admin.post(f"/o/acme/key-requests/{key_request.pk}/decide/", {"decision": "approve", "reason": "ok"})
    assert decided.status_code == 302
    assert KeyRequest.objects.get().status == "approved"
    assert mail.outbox[0].to == ["member@example.com"]

    collected = client.post(f"/keys/requests/{key_request.pk}/collect/")
    assert collected.status_code == 200
    body = collected.content.decode()
    secret = re.search(r'id="issued-secret-key">([^<]+)<', body)
    assert secret is not None and len(secret.group(1)) == 40
    key = AccessKey.objects.get()
    assert key.secret == {"secret_access_key": secret.group(1)}
    for snippet in ("aws configure set aws_secret_access_key", "boto3.client", "type = s3"):
        assert snippet in body
    assert "https://s3.spaceport.example" in body
    assert collected["Cache-Control"].startswith("max-age=0")

    again = client.post(f"/keys/requests/{key_request.pk}/collect/", follow=True)
    assert "shown only once" in again.content.decode()
    assert secret.group(1) not in again.content.decode()
    assert secret.group(1) not in client.get("/keys/").content.decode()
    assert AccessKey.objects.count() == 1


def test_a_decision_by_someone_who_is_not_an_admin_is_refused(member: Any, space: Space) -> None:
    key_request = KeyRequest.objects.create(requester=member, organization=space.organization, reason="mine")
    refused = signed_in(member).post(f"/o/acme/key-requests/{key_request.pk}/decide/", {"decision": "approve"})
    assert refused.status_code == 403
    assert KeyRequest.objects.get().status == "requested"
    assert AuditEvent.objects.filter(action="keyrequest.approve", outcome=AuditEvent.Outcome.DENIED).exists()


def test_declining_needs_a_reason(member: Any, admin_user: Any, space: Space) -> None:
    key_request = KeyRequest.objects.create(requester=member, organization=space.organization, reason="mine")
    url = f"/o/acme/key-requests/{key_request.pk}/decide/"
    admin = signed_in(admin_user)
    assert "Say why" in admin.post(url, {"decision": "decline"}, follow=True).content.decode()
    assert KeyRequest.objects.get().status == "requested"
    admin.post(url, {"decision": "decline", "reason": "use the team key"})
    assert KeyRequest.objects.get().status == "declined"


def test_rotate_deactivate_delete_on_the_page(member: Any, space: Space) -> None:
    KeyPolicy.objects.create(organization=space.organization, approval_required=False)
    client = signed_in(member)
    client.post("/keys/", {"organization": "acme", "reason": "laptop"})
    key_request = KeyRequest.objects.get()
    assert key_request.status == "approved"
    client.post(f"/keys/requests/{key_request.pk}/collect/")
    key = AccessKey.objects.get()
    rotated = client.post(f"/keys/{key.access_key_id}/rotate/")
    assert 'id="issued-secret-key"' in rotated.content.decode()
    assert AccessKey.objects.count() == 2
    client.post(f"/keys/{key.access_key_id}/deactivate/")
    assert AccessKey.objects.get(pk=key.pk).status == "inactive"
    client.post(f"/keys/{key.access_key_id}/delete/")
    assert not AccessKey.objects.filter(pk=key.pk).exists()


def test_another_users_key_and_request_are_not_found(member: Any, owner: Any, space: Space) -> None:
    KeyPolicy.objects.create(organization=space.organization, approval_required=False)
    key_request = KeyRequest.objects.create(
        requester=member, organization=space.organization, reason="mine", status="approved"
    )
    other = signed_in(owner)
    assert other.post(f"/keys/requests/{key_request.pk}/collect/").status_code == 404
    assert not AccessKey.objects.exists()


def test_an_expiry_past_the_cap_is_refused_on_the_page(member: Any, space: Space, settings: Any) -> None:
    settings.SPACEPORT_ACCESS_KEY_MAX_DAYS = 10
    refused = signed_in(member).post("/keys/", {"organization": "acme", "reason": "x", "lifetime_days": "11"})
    assert refused.status_code == 400
    assert "at most 10 days" in refused.content.decode()
    assert not KeyRequest.objects.exists()


def test_the_key_policy_on_the_organization_page(member: Any, owner: Any, space: Space) -> None:
    admin = signed_in(owner)
    assert "Save key policy" in admin.get("/o/acme/").content.decode()
    admin.post("/o/acme/key-policy/", {"keypolicy-max_days": "60"})
    policy = KeyPolicy.objects.get()
    assert (policy.approval_required, policy.max_days) == (False, 60)
    refused = signed_in(member).post("/o/acme/key-policy/", {"keypolicy-approval_required": "on"})
    assert refused.status_code == 403
    assert not KeyPolicy.objects.get().approval_required


def test_the_admin_approves_and_declines_with_a_reason(member: Any, platform_admin: Any, space: Space) -> None:
    first = KeyRequest.objects.create(requester=member, organization=space.organization, reason="one")
    second = KeyRequest.objects.create(requester=member, organization=space.organization, reason="two")
    admin = signed_in(platform_admin)
    url = "/admin/accessgrants/keyrequest/"
    listed = admin.get(url)
    assert listed.status_code == 200 and "Decline the selected requests" in listed.content.decode()
    admin.post(url, {"action": "approve_requests", "_selected_action": [first.pk], "reason": "fine"})
    no_reason = admin.post(url, {"action": "decline_requests", "_selected_action": [second.pk]}, follow=True)
    assert "Say why" in no_reason.content.decode()
    admin.post(url, {"action": "decline_requests", "_selected_action": [second.pk], "reason": "use the team key"})
    assert KeyRequest.objects.get(pk=first.pk).status == "approved"
    assert KeyRequest.objects.get(pk=second.pk).status == "declined"
    assert [m.to for m in mail.outbox] == [["member@example.com"], ["member@example.com"]]


def test_the_simulator_page_answers_for_an_access_key(member: Any, owner: Any, space: Space) -> None:
    from accessgrants.accesskeys import issue_key

    key = issue_key(member, space.organization).key
    admin = signed_in(owner)
    query = {"access_key": key.access_key_id, "action": "s3:GetObject", "resource": "acme-raw/a.csv", "secure": "on"}
    answer = admin.get("/o/acme/simulate/", query)
    assert answer.status_code == 200
    assert 'data-decision="allow"' in answer.content.decode()
    unknown = admin.get("/o/acme/simulate/", {**query, "access_key": "SPKNOSUCHKEY00000000"})
    assert "has no access key SPKNOSUCHKEY00000000" in unknown.content.decode()
    both = admin.get("/o/acme/simulate/", {**query, "user": "member@example.com"})
    assert "not both" in both.content.decode()
