"""Deciding by S3 access key: the owner's decision within the key's organization, refused with a
reason while the key is unusable, and taking a key's every change into account at once."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from accessgrants import keyexpiry
from accessgrants.accesskeys import deactivate_key, delete_key, issue_key, reactivate_key, rotate_key
from accessgrants.decisions import decide, decide_for_key, organization_role, principal_version
from accessgrants.identitypolicies import attach, create_policy
from accessgrants.models import AccessKey
from accessgrants.policies import Outcome
from portal.core import snapshots
from portal.tenancy.changes import create_organization, create_space
from portal.tenancy.grants import Grant, Role, Scope
from portal.tenancy.models import Organization, Space

PUT = "s3:PutObject"
OBJECT = "acme-raw/in/run-1.csv"


@pytest.fixture
def key(space: Space, member: Any) -> AccessKey:
    return issue_key(member, space.organization, lifetime_days=30).key


def test_a_key_decides_as_its_owner(key: AccessKey, member: Any) -> None:
    decision = decide_for_key(key.access_key_id, PUT, OBJECT)
    assert decision.allowed and decision.statements[0].policy == "space roles"
    assert decide_for_key(key.access_key_id, "s3:DeleteObject", OBJECT) == decide(member, "s3:DeleteObject", OBJECT)


def test_a_key_reaches_only_its_own_organization(key: AccessKey, member: Any) -> None:
    globex = create_organization(name="globex", display_name="Globex", owner=member)
    shipments = create_space(globex, name="shipments")
    Grant.objects.create(user=member, scope=Scope.SPACE, role=Role.SUPPLIER, organization=globex, space=shipments)
    assert decide(member, PUT, "globex-shipments/a").allowed
    decision = decide_for_key(key.access_key_id, PUT, "globex-shipments/a")
    assert not decision.allowed and decision.reason == "the key is for the buckets of acme only"


def test_an_unknown_key_is_refused(space: Space) -> None:
    decision = decide_for_key("SPACEPORTAAAAAAAAAAA", PUT, OBJECT)
    assert (decision.allowed, decision.outcome, decision.reason) == (False, Outcome.IMPLICIT_DENY, "no such access key")


def test_deactivating_and_reactivating_take_effect_at_once(key: AccessKey, member: Any) -> None:
    assert decide_for_key(key.access_key_id, PUT, OBJECT).allowed
    before = principal_version(member)
    deactivate_key(key.pk)
    assert principal_version(member) != before
    decision = decide_for_key(key.access_key_id, PUT, OBJECT)
    assert not decision.allowed and decision.reason == "the key is inactive"
    reactivate_key(key.pk)
    assert decide_for_key(key.access_key_id, PUT, OBJECT).allowed


def test_a_rotated_key_works_through_its_grace_only(key: AccessKey) -> None:
    successor = rotate_key(key.pk).key
    assert decide_for_key(key.access_key_id, PUT, OBJECT).allowed
    assert decide_for_key(successor.access_key_id, PUT, OBJECT).allowed
    key.refresh_from_db()
    assert key.deactivate_after is not None
    later = key.deactivate_after + timedelta(seconds=1)
    decision = decide_for_key(key.access_key_id, PUT, OBJECT, when=later)
    assert decision.reason == "the key was rotated and its grace period is over"
    assert decide_for_key(successor.access_key_id, PUT, OBJECT, when=later).allowed


def test_an_expired_key_is_refused_before_and_after_the_sweep(key: AccessKey) -> None:
    assert key.expires is not None
    past_expiry = key.expires + timedelta(seconds=1)
    assert decide_for_key(key.access_key_id, PUT, OBJECT, when=past_expiry).reason == "the key expired"
    AccessKey.objects.filter(pk=key.pk).update(expires=timezone.now() - timedelta(minutes=1))
    snapshots.changed()
    assert keyexpiry.deactivate_expired() == 1
    assert decide_for_key(key.access_key_id, PUT, OBJECT).reason == "the key is inactive"


def test_a_deleted_key_is_refused(key: AccessKey) -> None:
    assert decide_for_key(key.access_key_id, PUT, OBJECT).allowed
    delete_key(key.pk)
    assert decide_for_key(key.access_key_id, PUT, OBJECT).reason == "no such access key"


def test_a_new_key_is_known_at_once(space: Space, member: Any) -> None:
    """An unknown id is remembered at its version; issuing that key starts a new one."""
    assert decide_for_key("SPACEPORTAAAAAAAAAAA", PUT, OBJECT).reason == "no such access key"
    issued = issue_key(member, space.organization)
    assert decide_for_key(issued.access_key, PUT, OBJECT).allowed


def test_an_inactive_owner_is_refused(key: AccessKey, member: Any) -> None:
    member.is_active = False
    member.save()
    assert decide_for_key(key.access_key_id, PUT, OBJECT).reason == "the key's owner is inactive"


def test_the_snapshot_holds_no_secret(key: AccessKey) -> None:
    from accessgrants.keyprincipals import key_principal

    principal = key_principal(key.access_key_id)
    assert principal is not None and principal.organization == "acme"
    assert "password" in principal.owner.get_deferred_fields()


def test_a_warm_key_decision_reads_nothing(key: AccessKey, django_assert_num_queries: Any) -> None:
    decide_for_key(key.access_key_id, PUT, OBJECT)
    decide_for_key("SPACEPORTAAAAAAAAAAA", PUT, OBJECT)
    with django_assert_num_queries(0):
        for n in range(50):
            assert decide_for_key(key.access_key_id, PUT, f"acme-raw/in/{n}.csv").allowed
        assert not decide_for_key("SPACEPORTAAAAAAAAAAA", PUT, OBJECT).allowed


# --- aws:username and aws:PrincipalTag/* ---

TAGGED = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "AdminsEverywhere",
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": "acme-raw/*",
            "Condition": {
                "StringEquals": {"aws:PrincipalTag/organization": "acme", "aws:PrincipalTag/role": ["owner", "admin"]}
            },
        },
        {
            "Sid": "OwnFolder",
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": "acme-raw/home/${aws:username}/*",
        },
    ],
}


@pytest.fixture
def tagged(space: Space) -> Any:
    return create_policy(space.organization, name="tagged", document=TAGGED)


def person(email: str, organization: Organization, role: Role) -> Any:
    """Someone with an organization role and no space role, so only the policy can let them read."""
    from tests.conftest import make_user

    user = make_user(email)
    Grant.objects.create(user=user, scope=Scope.ORGANIZATION, role=role, organization=organization)
    return user


def allowed_by(decision: Any) -> list[str]:
    return [ref.sid for ref in decision.statements] if decision.allowed else []


def test_principal_tags_name_the_organization_and_the_role(
    tagged: Any, organization: Organization, owner: Any, outsider: Any
) -> None:
    admin = person("admin@example.com", organization, Role.ADMIN)
    reader = person("reader@example.com", organization, Role.ACCESS)
    roles = [organization_role(user, organization) for user in (owner, admin, reader, outsider)]
    assert roles == ["owner", "admin", "access", None]
    for user in (admin, reader):
        attach(tagged, user=user)
    report = "acme-raw/reports/q3.csv"
    assert allowed_by(decide(admin, "s3:GetObject", report, organization=organization)) == ["AdminsEverywhere"]
    assert not decide(reader, "s3:GetObject", report, organization=organization).allowed
    assert not decide(admin, "s3:GetObject", report).allowed, "no organization named, no tags"
    assert allowed_by(decide_for_key(issue_key(admin, organization).access_key, "s3:GetObject", report)) == [
        "AdminsEverywhere"
    ]
    assert not decide_for_key(issue_key(reader, organization).access_key, "s3:GetObject", report).allowed


def test_username_is_the_email_address(tagged: Any, organization: Organization) -> None:
    reader = person("reader@example.com", organization, Role.ACCESS)
    attach(tagged, user=reader)
    reader.username = "r-4711"
    reader.save()
    assert allowed_by(decide(reader, "s3:GetObject", "acme-raw/home/reader@example.com/notes.txt")) == ["OwnFolder"]
    assert not decide(reader, "s3:GetObject", "acme-raw/home/r-4711/notes.txt").allowed
    key = issue_key(reader, organization).access_key
    assert allowed_by(decide_for_key(key, "s3:GetObject", "acme-raw/home/reader@example.com/a")) == ["OwnFolder"]
