"""Access snapshots: cached between requests, yet every change takes effect at the next request."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from connections import lifecycle
from portal.auth.models import ApiToken
from portal.core import snapshots
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
