"""The decisions front door: a user's stored and implied policies, compiled once per principal
version, with every change that can alter the answer taking effect on the next question."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Group

from accessgrants import decisions
from accessgrants.decisions import abilities, decide, principal_version
from accessgrants.identitypolicies import attach, create_policy, delete_policy, detach, update_policy
from accessgrants.models import IdentityPolicy
from accessgrants.policies import Outcome
from portal.core.errors import DomainError
from portal.tenancy.grants import Grant, Role, Scope
from portal.tenancy.models import Space

GET = "s3:GetObject"
OBJECT = "acme-raw/in/run-1.csv"
ALLOW_GET = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": GET, "Resource": "acme-raw/*"}]}
DENY_GET = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": GET, "Resource": "acme-raw/in/*"}]}


@pytest.fixture
def stranger(space: Space) -> Any:
    """In acme through a group's organization role, with no space role: only policies let them in."""
    from tests.conftest import make_user

    user = make_user("stranger@example.com")
    group = Group.objects.create(name="analysts")
    Grant.objects.create(group=group, scope=Scope.ORGANIZATION, role=Role.ACCESS, organization=space.organization)
    user.groups.add(group)
    return user


def test_space_roles_are_implied_policies(space: Space, member: Any, owner: Any) -> None:
    decision = decide(member, "s3:PutObject", OBJECT)
    assert decision.allowed and decision.statements[0].policy == "space roles"
    assert decide(member, "s3:DeleteObject", OBJECT).outcome == Outcome.IMPLICIT_DENY
    assert not decide(member, GET, "globex-shipments/a").allowed


def test_attaching_detaching_and_changing_a_policy_take_effect_at_once(space: Space, stranger: Any) -> None:
    assert not decide(stranger, GET, OBJECT).allowed
    before = principal_version(stranger)
    policy = create_policy(space.organization, name="get", document=ALLOW_GET)
    attachment = attach(policy, user=stranger)
    assert principal_version(stranger) != before
    assert decide(stranger, GET, OBJECT).allowed
    update_policy(policy, document=DENY_GET)
    assert decide(stranger, GET, OBJECT).outcome == Outcome.EXPLICIT_DENY
    detach(policy, user=stranger)
    assert decide(stranger, GET, OBJECT).outcome == Outcome.IMPLICIT_DENY
    assert attachment.pk is not None


def test_a_policy_attached_to_a_group_follows_membership(space: Space, stranger: Any) -> None:
    group = stranger.groups.get()
    attach(create_policy(space.organization, name="get", document=ALLOW_GET), group=group)
    assert decide(stranger, GET, OBJECT).allowed
    stranger.groups.remove(group)
    assert not decide(stranger, GET, OBJECT).allowed
    stranger.groups.add(group)
    assert decide(stranger, GET, OBJECT).allowed
    delete_policy(IdentityPolicy.objects.get(name="get"))
    assert not decide(stranger, GET, OBJECT).allowed


def test_grants_change_the_implied_policies_at_once(space: Space, stranger: Any) -> None:
    grant = Grant.objects.create(
        user=stranger, scope=Scope.SPACE, role=Role.USER, organization=space.organization, space=space
    )
    assert decide(stranger, GET, OBJECT).allowed
    assert not decide(stranger, "s3:PutObject", OBJECT).allowed
    grant.role = Role.TRUSTEE
    grant.save()
    assert decide(stranger, "s3:DeleteObject", OBJECT).allowed
    grant.delete()
    assert not decide(stranger, GET, OBJECT).allowed


def test_policies_are_compiled_once_per_version(space: Space, stranger: Any, django_assert_num_queries: Any) -> None:
    attach(create_policy(space.organization, name="get", document=ALLOW_GET), user=stranger)
    decide(stranger, GET, OBJECT)
    with django_assert_num_queries(0):
        for n in range(50):
            decide(stranger, GET, f"acme-raw/in/{n}.csv")
    assert decisions.compiled_sets.get(principal_version(stranger)) is not None


def test_an_inactive_user_is_never_allowed(space: Space, member: Any) -> None:
    member.is_active = False
    member.save()
    assert not decide(member, "s3:PutObject", OBJECT).allowed


def test_the_table_of_a_space_asks_objects_and_buckets(space: Space, member: Any) -> None:
    rows = {action: (resource, decision.allowed) for action, resource, decision in abilities(member, space)}
    assert rows["s3:ListBucket"] == ("acme-raw", True)
    assert rows["s3:PutObject"] == ("acme-raw/*", True)
    assert rows["s3:DeleteObject"] == ("acme-raw/*", False)
    assert rows["s3:PutBucketPolicy"] == ("acme-raw", False)


def test_the_domain_refuses_with_the_statement_and_field(space: Space) -> None:
    bad = {
        "Version": "2012-10-17",
        "Statement": [ALLOW_GET["Statement"][0], {**ALLOW_GET["Statement"][0], "Action": "s3:Fetch"}],
    }
    with pytest.raises(DomainError) as refused:
        create_policy(space.organization, name="bad", document=bad)
    assert refused.value.field == "document"
    assert refused.value.message.startswith("Statement[2].Action: unknown action s3:Fetch")
    with pytest.raises(DomainError) as refused:
        create_policy(space.organization, name="no spaces allowed", document=ALLOW_GET)
    assert refused.value.field == "name"
