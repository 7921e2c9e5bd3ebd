"""S3 access keys and requests for them over REST: the limit, the cap, the secret shown once, a key
of another user hidden, decisions by the organization's admins only, everything on the trail."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone

from accessgrants.accesskeys import deactivate_key, delete_key, rotate_key
from accessgrants.models import AccessKey, KeyPolicy, KeyRequest
from portal.audit.models import AuditEvent
from portal.tenancy.models import Organization, Space
from tests.conftest import assert_api_error

KEYS = "/api/v1/keys/"
REQUESTS = "/api/v1/key-requests/"
LIMIT = "A user cannot have more than two access keys"


@pytest.fixture
def at_once(space: Space) -> Organization:
    """acme issues keys at once."""
    KeyPolicy.objects.create(organization=space.organization, approval_required=False)
    return space.organization


def make_key(client: Any, **fields: Any) -> Any:
    return client.post(KEYS, fields, format="json")


def test_a_member_makes_keys_up_to_the_limit_and_the_secret_is_shown_once(api: Any, member: Any, at_once: Any) -> None:
    client = api(member)
    first = make_key(client, description="laptop")
    assert first.status_code == 201, first.content
    body = first.json()
    assert body["access_key"].startswith("SPK") and len(body["access_key"]) == 20
    assert body["access_key"].isupper() or body["access_key"][3:].isalnum()
    assert len(body["secret_key"]) == 40
    assert body["organization"] == "acme"
    assert make_key(client).status_code == 201

    third = make_key(client)
    assert_api_error(third, 400)
    assert third.json()["message"] == LIMIT
    assert AccessKey.objects.filter(user=member).count() == 2

    listed = client.get(KEYS).json()["results"]
    assert {k["access_key"] for k in listed} == set(AccessKey.objects.values_list("access_key_id", flat=True))
    shown = client.get(f"{KEYS}{body['access_key']}/").content.decode()
    assert body["secret_key"] not in client.get(KEYS).content.decode()
    assert body["secret_key"] not in shown
    stored = AccessKey.objects.get(access_key_id=body["access_key"])
    assert stored.secret == {"secret_access_key": body["secret_key"]}


def test_the_limit_follows_the_setting(api: Any, member: Any, at_once: Any, settings: Any) -> None:
    settings.SPACEPORT_MAX_ACCESS_KEYS_PER_USER = 1
    client = api(member)
    assert make_key(client).status_code == 201
    assert make_key(client).json()["message"] == "A user cannot have more than one access keys"


def test_where_approval_is_required_making_a_key_says_to_request_one(api: Any, member: Any, space: Space) -> None:
    response = make_key(api(member))
    assert_api_error(response, 403)
    assert "request one" in response.json()["message"]
    assert not AccessKey.objects.exists()
    assert AuditEvent.objects.filter(action="accesskey.issue", outcome=AuditEvent.Outcome.DENIED).exists()


def test_an_expiry_past_the_cap_is_refused(api: Any, member: Any, at_once: Organization, settings: Any) -> None:
    settings.SPACEPORT_ACCESS_KEY_MAX_DAYS = 90
    client = api(member)
    assert_api_error(make_key(client, lifetime_days=91), 400, "lifetime_days")
    KeyPolicy.objects.filter(organization=at_once).update(max_days=30)
    refused = make_key(client, lifetime_days=31)
    assert_api_error(refused, 400, "lifetime_days")
    assert "at most 30 days" in refused.json()["message"]
    assert not AccessKey.objects.exists()
    made = make_key(client)
    key = AccessKey.objects.get(access_key_id=made.json()["access_key"])
    assert key.expires is not None
    assert timedelta(days=29) < key.expires - timezone.now() <= timedelta(days=30)


def test_a_key_of_another_user_is_not_found(api: Any, member: Any, owner: Any, at_once: Any) -> None:
    made = make_key(api(member)).json()["access_key"]
    other = api(owner)
    for method, suffix in (("get", ""), ("delete", ""), ("post", "deactivate/"), ("post", "rotate/")):
        response = getattr(other, method)(f"{KEYS}{made}/{suffix}")
        assert response.status_code == 404, (method, suffix, response.content)
    assert AccessKey.objects.get(access_key_id=made).status == AccessKey.Status.ACTIVE


def test_an_outsider_may_not_make_a_key_in_acme(api: Any, outsider: Any, at_once: Any) -> None:
    response = make_key(api(outsider), organization="acme")
    assert_api_error(response, 404)
    assert not AccessKey.objects.exists()


def test_deactivate_reactivate_delete(api: Any, member: Any, at_once: Any) -> None:
    client = api(member)
    made = make_key(client).json()["access_key"]
    assert client.post(f"{KEYS}{made}/deactivate/").json()["status"] == "inactive"
    assert make_key(client).status_code == 201
    assert make_key(client).status_code == 201
    refused = client.post(f"{KEYS}{made}/reactivate/")
    assert refused.json()["message"] == LIMIT
    other = AccessKey.objects.exclude(access_key_id=made).first()
    assert other is not None
    assert client.delete(f"{KEYS}{other.access_key_id}/").status_code == 204
    assert client.post(f"{KEYS}{made}/reactivate/").json()["status"] == "active"
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"accesskey.issue", "accesskey.deactivate", "accesskey.reactivate", "accesskey.delete"} <= actions


def test_rotate_at_the_limit_keeps_the_old_key_for_the_grace_period(
    api: Any, member: Any, at_once: Any, settings: Any
) -> None:
    settings.SPACEPORT_ACCESS_KEY_ROTATION_GRACE_HOURS = 6
    client = api(member)
    old = make_key(client).json()["access_key"]
    make_key(client)
    rotated = client.post(f"{KEYS}{old}/rotate/")
    assert rotated.status_code == 201, rotated.content
    assert len(rotated.json()["secret_key"]) == 40
    previous = AccessKey.objects.get(access_key_id=old)
    assert previous.status == AccessKey.Status.ACTIVE
    assert previous.deactivate_after is not None
    assert timedelta(hours=5) < previous.deactivate_after - timezone.now() <= timedelta(hours=6)
    assert AccessKey.objects.get(access_key_id=rotated.json()["access_key"]).rotated_from == previous
    again = client.post(f"{KEYS}{old}/rotate/")
    assert_api_error(again, 400, "status")
    assert make_key(client).json()["message"] == LIMIT
    assert AuditEvent.objects.filter(action="accesskey.rotate").exists()


def test_domain_functions_take_a_primary_key(member: Any, at_once: Organization) -> None:
    """What a scheduled task calls: deactivate, rotate and delete by primary key."""
    from accessgrants.accesskeys import issue_key

    issued = issue_key(member, at_once)
    assert issued.secret_key not in repr(issued)
    successor = rotate_key(issued.key.pk)
    assert deactivate_key(issued.key.pk, reason="rotated").status == AccessKey.Status.INACTIVE
    delete_key(successor.key.pk, reason="expired")
    assert list(AccessKey.objects.values_list("access_key_id", flat=True)) == [issued.access_key]


# --- requests ---


def request_one(client: Any, **fields: Any) -> Any:
    return client.post(REQUESTS, {"reason": "nightly backups", **fields}, format="json")


def test_request_approve_collect_once(api: Any, member: Any, owner: Any, space: Space) -> None:
    member_client = api(member)
    made = request_one(member_client, lifetime_days=30)
    assert made.status_code == 201, made.content
    assert made.json()["status"] == "requested"
    request_id = made.json()["id"]
    assert_api_error(member_client.post(f"{REQUESTS}{request_id}/collect/"), 400, "status")

    pending = api(owner).get("/api/v1/organizations/acme/key-requests/?status=requested").json()["results"]
    assert [r["id"] for r in pending] == [request_id]
    approved = api(owner).post(f"{REQUESTS}{request_id}/approve/", {"reason": "fine"}, format="json")
    assert approved.json()["status"] == "approved", approved.content
    assert approved.json()["decided_by"] == "owner@example.com"
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["member@example.com"]
    assert "approved" in mail.outbox[0].subject

    collected = member_client.post(f"{REQUESTS}{request_id}/collect/")
    assert collected.status_code == 201, collected.content
    secret = collected.json()["secret_key"]
    key = AccessKey.objects.get(access_key_id=collected.json()["access_key"])
    assert key.user == member and key.expires is not None
    twice = member_client.post(f"{REQUESTS}{request_id}/collect/")
    assert_api_error(twice, 400, "status")
    assert "only once" in twice.json()["message"]
    assert secret not in twice.content.decode()
    assert KeyRequest.objects.get(pk=request_id).status == "issued"
    assert AccessKey.objects.count() == 1
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"keyrequest.request", "keyrequest.approve", "keyrequest.collect", "accesskey.issue"} <= actions
    for email in mail.outbox:
        assert secret not in email.body


def test_an_approval_by_someone_who_is_not_an_admin_is_refused(
    api: Any, member: Any, outsider: Any, space: Space
) -> None:
    request_id = request_one(api(member)).json()["id"]
    own = api(member).post(f"{REQUESTS}{request_id}/approve/", {"reason": "me"}, format="json")
    assert_api_error(own, 403)
    stranger = api(outsider).post(f"{REQUESTS}{request_id}/approve/", {"reason": "me"}, format="json")
    assert stranger.status_code == 404
    assert KeyRequest.objects.get(pk=request_id).status == "requested"
    assert AuditEvent.objects.filter(action="keyrequest.approve", outcome=AuditEvent.Outcome.DENIED).exists()
    assert api(member).get("/api/v1/organizations/acme/key-requests/").status_code == 403
    assert not mail.outbox


@pytest.mark.parametrize("decider", ["owner", "admin_user", "platform_admin"])
def test_each_kind_of_admin_declines_with_a_reason(
    api: Any, member: Any, space: Space, decider: str, request: Any
) -> None:
    who = request.getfixturevalue(decider)
    request_id = request_one(api(member)).json()["id"]
    no_reason = api(who).post(f"{REQUESTS}{request_id}/decline/", {}, format="json")
    assert_api_error(no_reason, 400, "reason")
    declined = api(who).post(f"{REQUESTS}{request_id}/decline/", {"reason": "use the shared key"}, format="json")
    assert declined.json()["status"] == "declined", declined.content
    assert "use the shared key" in mail.outbox[0].body
    assert_api_error(api(member).post(f"{REQUESTS}{request_id}/collect/"), 400, "status")


def test_withdraw_and_lists(api: Any, member: Any, owner: Any, space: Space) -> None:
    client = api(member)
    request_id = request_one(client).json()["id"]
    assert client.post(f"{REQUESTS}{request_id}/withdraw/").json()["status"] == "withdrawn"
    assert api(owner).post(f"{REQUESTS}{request_id}/withdraw/").status_code == 403
    assert [r["id"] for r in client.get(REQUESTS).json()["results"]] == [request_id]
    assert api(owner).get(REQUESTS).json()["results"] == []


def test_where_keys_are_issued_at_once_a_request_is_approved_as_made(api: Any, member: Any, at_once: Any) -> None:
    made = request_one(api(member))
    assert made.json()["status"] == "approved"
    assert api(member).post(f"{REQUESTS}{made.json()['id']}/collect/").status_code == 201


def test_a_request_past_the_cap_is_refused(api: Any, member: Any, space: Space, settings: Any) -> None:
    settings.SPACEPORT_ACCESS_KEY_MAX_DAYS = 10
    assert_api_error(request_one(api(member), lifetime_days=11), 400, "lifetime_days")
    assert not KeyRequest.objects.exists()


def test_the_key_endpoints_are_in_the_schema(api: Any, member: Any) -> None:
    schema = api(member).get("/api/schema/", HTTP_ACCEPT="application/json").content.decode()
    for path in ("/api/v1/keys/", "/api/v1/keys/{access_key_id}/rotate/", "/api/v1/key-requests/{id}/collect/"):
        assert path in schema


# --- the organization's key policy ---

KEY_POLICY = "/api/v1/organizations/acme/key-policy/"


@pytest.mark.parametrize("admin", ["owner", "admin_user", "platform_admin"])
def test_each_kind_of_admin_sets_the_key_policy(api: Any, space: Space, admin: str, request: Any) -> None:
    client = api(request.getfixturevalue(admin))
    assert client.get(KEY_POLICY).json() == {"approval_required": True, "max_days": None, "effective_max_days": 365}
    changed = client.put(KEY_POLICY, {"approval_required": False, "max_days": 30}, format="json")
    assert changed.json() == {"approval_required": False, "max_days": 30, "effective_max_days": 30}, changed.content
    assert AuditEvent.objects.filter(action="keypolicy.update").exists()


def test_the_key_policy_is_the_admins_alone(api: Any, member: Any, outsider: Any, space: Space) -> None:
    assert_api_error(api(member).put(KEY_POLICY, {"approval_required": False}, format="json"), 403)
    assert api(member).get(KEY_POLICY).status_code == 404
    assert api(outsider).put(KEY_POLICY, {"approval_required": False}, format="json").status_code == 404
    assert not KeyPolicy.objects.exists()


def test_an_organization_cap_past_the_platforms_is_refused(api: Any, owner: Any, space: Space) -> None:
    refused = api(owner).put(KEY_POLICY, {"approval_required": True, "max_days": 366}, format="json")
    assert_api_error(refused, 400, "max_days")
    assert not KeyPolicy.objects.exists()


# --- the simulator asked about a key ---


def test_the_simulator_answers_for_an_access_key(api: Any, owner: Any, member: Any, at_once: Organization) -> None:
    from accessgrants.accesskeys import issue_key

    key = issue_key(member, at_once).key
    simulate = "/api/v1/organizations/acme/simulate/"
    question = {"access_key": key.access_key_id, "action": "s3:GetObject", "resource": "acme-raw/a.csv"}
    answer = api(owner).post(simulate, question, format="json")
    assert answer.status_code == 200, answer.content
    assert answer.json()["decision"] == "allow"
    table = api(owner).post(f"{simulate}space/", {"access_key": key.access_key_id, "space": "raw"}, format="json")
    assert table.json()["user"] == "member@example.com"

    both = api(owner).post(simulate, {**question, "user": "member@example.com"}, format="json")
    assert_api_error(both, 400, "access_key")
    deactivate_key(key.pk)
    inactive = api(owner).post(simulate, question, format="json")
    assert inactive.status_code == 200, inactive.content
    assert (inactive.json()["decision"], inactive.json()["reason"]) == ("deny", "the key is inactive")


def test_last_used_is_recorded_in_bulk_later_times_only(member: Any, at_once: Organization) -> None:
    from accessgrants.accesskeys import issue_key, record_use

    first, second = issue_key(member, at_once).key, issue_key(member, at_once).key
    now = timezone.now()
    assert record_use({first.access_key_id: now, second.access_key_id: now, "SPKNOSUCHKEY00000000": now}) == 2
    assert record_use({first.access_key_id: now - timedelta(minutes=5)}, {first.access_key_id: 3}) == 1
    assert record_use({}, {first.access_key_id: 2, second.access_key_id: 1}) == 2
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.last_used == now and first.request_count == 5
    assert second.last_used == now and second.request_count == 1
    assert not AuditEvent.objects.filter(action="accesskey.update").exists()


def test_an_expired_key_does_not_count_towards_the_limit(api: Any, member: Any, at_once: Any) -> None:
    client = api(member)
    make_key(client)
    expired = make_key(client).json()["access_key"]
    AccessKey.objects.filter(access_key_id=expired).update(expires=timezone.now() - timedelta(minutes=1))
    assert make_key(client).status_code == 201


def test_an_outsider_may_not_request_a_key_in_acme(api: Any, outsider: Any, platform_admin: Any, space: Space) -> None:
    assert_api_error(request_one(api(outsider), organization="acme"), 404)
    assert_api_error(request_one(api(platform_admin), organization="acme"), 404)
    assert not KeyRequest.objects.exists()
