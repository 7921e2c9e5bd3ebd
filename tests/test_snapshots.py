"""Access snapshots: cached between requests, yet every change takes effect at the next request."""

from __future__ import annotations

from typing import Any

import pytest
import redis as redis_py
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.test import Client

from accessgrants.vending import issuing, plans
from connections import lifecycle
from portal.audit import journal
from portal.audit.models import AuditEvent
from portal.auth.models import ApiToken
from portal.core import snapshots
from portal.core.cache import raw_redis
from portal.tenancy.grants import Grant, Role, Scope
from portal.tenancy.models import Space
from tests.emulators import Azurite
from tests.test_vending_azure import connect_to_azurite, ensure_containers

READ = "/api/v2.0/accessmanager/read?organization=acme&space=raw"


@pytest.fixture
def acme(space: Space, azurite: Azurite) -> Space:
    ensure_containers(azurite, "raw", "loadingzone")
    connect_to_azurite(space.organization, azurite)
    return space


def vend(key: str) -> int:
    return Client().post(READ, HTTP_AUTHORIZATION=f"Token {key}").status_code


def test_a_repeated_vend_reads_only_snapshots(acme: Space, member: Any, django_assert_max_num_queries: Any) -> None:
    _, key = ApiToken.issue(member, "script")
    assert vend(key) == 200
    with django_assert_max_num_queries(2):
        assert vend(key) == 200


def test_revoking_a_grant_takes_effect_at_the_next_request(acme: Space, member: Any) -> None:
    _, key = ApiToken.issue(member, "script")
    assert vend(key) == 200
    Grant.objects.get(user=member, space=acme).delete()
    assert vend(key) == 403


def test_leaving_a_group_takes_effect_at_the_next_request(acme: Space, outsider: Any) -> None:
    team = Group.objects.create(name="readers")
    team.user_set.add(outsider)  # type: ignore[attr-defined]
    Grant.objects.create(group=team, scope=Scope.ORGANIZATION, role=Role.ACCESS, organization=acme.organization)
    Grant.objects.create(group=team, scope=Scope.SPACE, role=Role.USER, organization=acme.organization, space=acme)
    _, key = ApiToken.issue(outsider, "script")
    assert vend(key) == 200
    team.user_set.remove(outsider)  # type: ignore[attr-defined]
    assert vend(key) == 403


def test_disabling_the_connection_takes_effect_at_the_next_request(acme: Space, member: Any) -> None:
    _, key = ApiToken.issue(member, "script")
    assert vend(key) == 200
    connection = acme.organization.connections.get()
    lifecycle.disable_connection(connection)
    response = Client().post(READ, HTTP_AUTHORIZATION=f"Token {key}")
    assert response.status_code == 404
    assert response.json()["errorCode"] == 10041


def test_marking_the_space_for_deletion_takes_effect_at_the_next_request(acme: Space, member: Any) -> None:
    from portal.tenancy.changes import mark_space_for_deletion

    _, key = ApiToken.issue(member, "script")
    assert vend(key) == 200
    mark_space_for_deletion(acme)
    assert vend(key) == 403


def test_a_change_starts_a_new_version_now_and_again_at_commit(
    acme: Space, member: Any, django_capture_on_commit_callbacks: Any
) -> None:
    before = snapshots.version()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        Grant.objects.get(user=member, space=acme).delete()
        during = snapshots.version()
    assert during != before
    for callback in callbacks:
        callback()
    assert snapshots.version() not in (before, during)


def test_each_read_gets_its_own_copy_of_a_snapshot(db: None) -> None:
    first = snapshots.cached("test-kind", "one", lambda: {"roles": ["user"]})
    first["roles"].append("trustee")
    second = snapshots.cached("test-kind", "one", lambda: {"roles": ["never produced"]})
    assert second == {"roles": ["user"]}


def test_a_new_version_is_read_past_this_process_s_copies(db: None) -> None:
    assert snapshots.cached("test-kind", "two", lambda: "before") == "before"
    snapshots.changed()
    assert snapshots.cached("test-kind", "two", lambda: "after") == "after"


def test_a_bulk_update_starts_a_new_version_like_a_save(acme: Space) -> None:
    before = snapshots.version()
    Space.objects.filter(pk=acme.pk).update(description="changed in bulk")
    assert snapshots.version() != before
    unchanged = snapshots.version()
    Space.objects.filter(pk=-1).update(description="no row")
    assert snapshots.version() == unchanged, "an update that changed nothing keeps the snapshots"


def _another_process_moves_the_version(change: Any) -> None:
    """Make ``change`` as another process would: this process keeps the version it saw last.

    ``changed()`` in this process also updates what it saw last, so the test puts that back.
    """
    memory_key = snapshots._last_seen.key(snapshots.VERSION_KEY)
    seen = snapshots._last_seen.get(memory_key)
    assert seen is not None, "a vend before this one has read the version"
    change()
    snapshots._last_seen.put(memory_key, seen)


def _credential_events() -> list[tuple[str, str]]:
    journal.drain()
    trail = AuditEvent.objects.filter(action__startswith="credential.").order_by("time", "pk")
    return [(e.action, e.details.get("reason", "")) for e in trail]


def test_a_cached_vend_on_a_version_another_process_moved_starts_over_and_is_refused(acme: Space, member: Any) -> None:
    _, key = ApiToken.issue(member, "script")
    assert vend(key) == 200
    assert vend(key) == 200, "the second vend is a cache hit, decided on the version seen last"
    _another_process_moves_the_version(lambda: Grant.objects.get(user=member, space=acme).delete())
    assert vend(key) == 403
    assert _credential_events() == [
        ("credential.issue", ""),
        ("credential.issue", ""),
        ("credential.refuse", "read_denied"),
    ], "the stale decision took no effect: no issuance journaled for it"


def test_a_refusal_on_a_version_another_process_moved_starts_over_and_is_allowed(acme: Space, outsider: Any) -> None:
    _, key = ApiToken.issue(outsider, "script")
    assert vend(key) == 403, "the outsider's grants (none) are now a snapshot at this version"

    def grant_outsider() -> None:
        Grant.objects.create(user=outsider, scope=Scope.ORGANIZATION, role=Role.ACCESS, organization=acme.organization)
        Grant.objects.create(
            user=outsider, scope=Scope.SPACE, role=Role.USER, organization=acme.organization, space=acme
        )

    _another_process_moves_the_version(grant_outsider)
    assert vend(key) == 200
    assert _credential_events() == [("credential.refuse", "read_denied"), ("credential.issue", "")], (
        "no refusal journaled for the stale decision"
    )


def test_a_vend_on_a_moved_version_counts_once_toward_the_rate_limit(acme: Space, member: Any, settings: Any) -> None:
    settings.SPACEPORT_CREDENTIAL_RATE_LIMIT_PER_MINUTE = 2
    _, key = ApiToken.issue(member, "script")
    assert vend(key) == 200
    _another_process_moves_the_version(lambda: cache.set(snapshots.VERSION_KEY, "moved-elsewhere", None))
    assert vend(key) == 200, "started over once, counted once"
    assert vend(key) == 429


def test_a_new_credential_on_a_moved_version_counts_once_toward_the_rate_limit(
    acme: Space, member: Any, settings: Any
) -> None:
    settings.SPACEPORT_CREDENTIAL_RATE_LIMIT_PER_MINUTE = 2
    _, key = ApiToken.issue(member, "script")
    assert vend(key) == 200
    _another_process_moves_the_version(lambda: cache.set(snapshots.VERSION_KEY, "moved-elsewhere", None))
    upload = Client().post(READ.replace("/read?", "/upload?"), HTTP_AUTHORIZATION=f"Token {key}")
    assert upload.status_code == 200, "a new (upload) credential: started over once, counted once"
    assert vend(key) == 429
    assert _credential_events()[-1] == ("credential.refuse", "throttled")


def redis_commands(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The commands every redis-py client in this process sends from now on (the cache's reads,
    scripts, stream entries), whichever of the cache's connection pools it uses."""
    sent: list[str] = []
    original = redis_py.Redis.execute_command

    def counted(self: redis_py.Redis, *args: Any, **options: Any) -> Any:
        sent.append(str(args[0]))
        return original(self, *args, **options)

    monkeypatch.setattr(redis_py.Redis, "execute_command", counted)
    return sent


def test_a_credential_costs_one_redis_call_from_the_process_and_two_otherwise(
    acme: Space, member: Any, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, key = ApiToken.issue(member, "script")
    assert vend(key) == 200
    sent = redis_commands(monkeypatch)
    assert vend(key) == 200
    assert sent == ["EVALSHA"], "held in the process: the count and the audit entry in one script"

    issuing._recent.clear()
    plans._plans.clear()
    sent.clear()
    assert vend(key) == 200
    assert sent == ["EVALSHA", "XADD"], "held in the shared cache: counted and read in one script, then the entry"

    settings.SPACEPORT_CREDENTIAL_CACHE_BUFFER_MINUTES = 100_000  # nothing is kept: every vend is new
    sent.clear()
    assert vend(key) == 200
    assert sent == ["EVALSHA", "XADD"], "the shared cache's credential is too near its end: a new one"
    redis = raw_redis()
    assert redis is not None
    held = list(redis.client.scan_iter(match=f"*{issuing.CACHE_PREFIX}*"))
    assert held, "the first vend's credential is in the shared cache"
    redis.client.delete(*held)
    sent.clear()
    assert vend(key) == 200
    assert sent == ["EVALSHA", "XADD"], "nothing held anywhere: counted and looked up in one script, then the entry"
    journal.drain()
    assert AuditEvent.objects.filter(action="credential.issue").count() == 5, "every vend is audited"
