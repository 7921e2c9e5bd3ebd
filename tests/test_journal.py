"""The audit journal: credential events reach the trail through Redis, once each, whatever fails."""

from __future__ import annotations

import copy
import json
import threading
import time
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from django.test import RequestFactory

from portal.audit import journal
from portal.audit.context import RequestContextMiddleware
from portal.audit.journal import STREAM, _insert, _row
from portal.audit.models import AuditEvent
from portal.audit.trail import event
from portal.core.cache import raw_redis
from portal.tasks import drain_audit_journal
from portal.tenancy.models import Organization, Space

ACTION = "credential.issue"


def journal_entries() -> list[Any]:
    redis = raw_redis()
    assert redis is not None, "the tests run on Redis"
    return list(redis.client.xrange(redis.key(STREAM), "-", "+"))


def issued() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=ACTION).order_by("time", "pk"))


def test_an_event_waits_in_the_journal_and_is_copied_as_it_happened(space: Space, member: Any) -> None:
    request = RequestFactory().post("/x", REMOTE_ADDR="192.0.2.7", HTTP_X_REQUEST_ID="journal-test-1")
    request.user = member

    def view(_request: Any) -> Any:
        journal.journal(ACTION, space, details={"access": "read", "sas": "sig=abc", "cached": True})
        from django.http import HttpResponse

        return HttpResponse()

    RequestContextMiddleware(view)(request)
    assert issued() == [] and len(journal_entries()) == 1
    assert "sig=abc" not in json.dumps(str(journal_entries())), "secrets are masked before they are journaled"

    assert journal.drain() == 1
    [event] = issued()
    assert (event.actor, event.actor_label, event.organization, event.organization_name) == (
        member,
        member.email,
        space.organization,
        space.organization.name,
    )
    assert (event.target_type, event.target_id, event.ip_address, event.request_id) == (
        "portal.space",
        str(space.pk),
        "192.0.2.7",
        "journal-test-1",
    )
    assert event.details == {"access": "read", "sas": "********", "cached": True}
    assert event.journal_id
    assert journal_entries() == [], "drained entries leave the stream"


def test_the_event_keeps_the_time_it_happened_not_the_time_it_was_drained(space: Space) -> None:
    journal.journal(ACTION, space, details={"n": 1})
    before = json.loads(journal_entries()[0][1][b"event"])["time"]
    journal.drain()
    assert issued()[0].time.isoformat() == before


def test_a_drain_that_died_after_inserting_is_repeated_without_duplicates(space: Space) -> None:
    for n in range(3):
        journal.journal(ACTION, space, details={"n": n})
    entries = journal_entries()
    _insert([_row(entry_id, fields) for entry_id, fields in entries[:2]])  # died before removing them
    assert journal.drain() == 3
    assert [event.details["n"] for event in issued()] == [0, 1, 2]
    assert journal.drain() == 0


def test_an_actor_or_organization_deleted_before_the_drain_keeps_its_name(
    organization: Organization, member: Any
) -> None:
    journal.journal(ACTION, organization, actor=member, details={})
    name, email = organization.name, member.email
    organization.delete()
    member.delete()
    assert journal.drain() == 1
    [event] = issued()
    assert (event.actor, event.actor_label, event.organization, event.organization_name) == (None, email, None, name)


def test_many_events_are_drained_in_batches(space: Space) -> None:
    for n in range(25):
        journal.journal(ACTION, space, details={"n": n})
    assert journal.drain(batch=10) == 25
    assert sorted(event.details["n"] for event in issued()) == list(range(25))


def test_a_drain_ends_while_vends_keep_journaling(space: Space) -> None:
    """An audit listing drains first, so a drain that chased new entries would hold it as long as vends go on."""
    journal.journal(ACTION, space, details={})
    redis = raw_redis()
    assert redis is not None
    key = redis.key(STREAM)
    [(_, fields)] = journal_entries()
    stop = threading.Event()

    def keep_journaling() -> None:
        deadline = time.monotonic() + 20
        while not stop.is_set() and time.monotonic() < deadline:
            redis.client.xadd(key, fields)

    writer = threading.Thread(target=keep_journaling)
    writer.start()
    try:
        while redis.client.xlen(key) < 50:
            time.sleep(0.01)
        copied = journal.drain(batch=5)
        ended_while_writing = writer.is_alive()
    finally:
        stop.set()
        writer.join()
        redis.client.delete(key)
    assert ended_while_writing, "the drain went on until the vends stopped"
    assert copied >= 50 and AuditEvent.objects.filter(action=ACTION).count() == copied


def test_beat_drains_the_journal_every_few_seconds(space: Space) -> None:
    entry = django_settings.CELERY_BEAT_SCHEDULE["drain-audit-journal"]
    assert entry["task"] == "portal.tasks.drain_audit_journal" and float(entry["schedule"]) <= 10  # type: ignore[arg-type]
    journal.journal(ACTION, space, details={})
    assert drain_audit_journal() == 1
    assert len(issued()) == 1


def test_the_audit_api_and_admin_list_journaled_events(
    space: Space, platform_admin: Any, api: Any, client: Any
) -> None:
    journal.journal(ACTION, space, details={"via": "api"})
    listed = api(platform_admin).get("/api/v1/audit-events/", {"action": ACTION}).json()
    assert [event["details"] for event in listed["results"]] == [{"via": "api"}]
    journal.journal(ACTION, space, details={"via": "admin"})
    client.force_login(platform_admin)
    assert client.get("/admin/portal/auditevent/").status_code == 200
    assert len(issued()) == 2


def test_without_redis_events_are_written_at_once(space: Space, settings: Any) -> None:
    caches = copy.deepcopy(settings.CACHES)
    caches["default"] = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    settings.CACHES = caches
    journal.journal(ACTION, space, details={"embedded": True})
    assert [event.details for event in issued()] == [{"embedded": True}]
    assert journal.drain() == 0


def test_an_event_is_journaled_only_within_the_limit(space: Space) -> None:
    counts = []
    for n in range(3):
        count = journal.journal_within_limit("test-counter", 60, 2, allowed=event(ACTION, space, details={"n": n}))
        if count > 2:
            journal.journal("credential.refuse", space, details={"n": n, "reason": "throttled"})
        counts.append(count)
    assert counts == [1, 2, 3]
    journal.drain()
    trail = AuditEvent.objects.filter(action__startswith="credential.").order_by("time", "pk")
    assert [(e.action, e.details["n"]) for e in trail] == [(ACTION, 0), (ACTION, 1), ("credential.refuse", 2)]


@pytest.mark.parametrize("backend", ["redis", "local memory"])
def test_counted_and_held_counts_and_answers_the_cache(backend: str, settings: Any) -> None:
    if backend == "local memory":
        caches = copy.deepcopy(settings.CACHES)
        caches["default"] = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
        settings.CACHES = caches
    key, counter = f"held-test:{backend}", f"held-counter:{backend}"
    cache.delete_many([key, counter])

    assert journal.counted_and_held(counter, key, 60) == journal.CountedAndHeld(1, None)
    cache.set(key, "token", 60)
    assert journal.counted_and_held(counter, key, 60) == journal.CountedAndHeld(2, "token")
    cache.delete(key)
    assert journal.counted_and_held(counter, key, 60) == journal.CountedAndHeld(3, None)
