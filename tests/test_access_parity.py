"""One source of truth per rule: each predicate of :class:`AccessContext` and its queryset agree.

Views decide single objects with the predicates (``may_administer``, ``may_write``...) and lists
with the querysets (``administered_organizations``, ``writable_spaces``...). For every shared actor
(and the all-public role claims) and every organization and space of a world with each
confidentiality and state, both must give the same answer, for reading and for writing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db.models import QuerySet

from portal.tenancy.changes import create_organization, create_space
from portal.tenancy.grants import Grant, Role, Scope
from portal.tenancy.models import Organization, Space
from portal.tenancy.roleclaims import facts_from_role_names
from portal.tenancy.rules import AccessContext

pytestmark = pytest.mark.both_databases

ORGANIZATION_RULES: dict[str, tuple[Callable[[AccessContext, Organization], bool], str]] = {
    "see": (AccessContext.may_access_organization, "visible_organizations"),
    "administer": (AccessContext.may_administer, "administered_organizations"),
}
SPACE_RULES: dict[str, tuple[Callable[[AccessContext, Space], bool], str]] = {
    "see": (AccessContext.may_see_space, "visible_spaces"),
    "read": (AccessContext.may_read, "readable_spaces"),
    "write": (AccessContext.may_write, "writable_spaces"),
    "delete": (AccessContext.may_delete, "deletable_spaces"),
}


@pytest.fixture
def world(organization: Organization, space: Space, owner: Any, member: Any, outsider: Any, admin_user: Any) -> None:
    """acme (with ``raw``, where the member supplies) plus spaces and organizations in every
    confidentiality and state, and roles of every kind spread over the shared actors."""
    create_space(organization, name="shared", confidentiality="PUBLIC")
    create_space(organization, name="secret", confidentiality="PRIVATE")
    locked = create_space(organization, name="frozen")
    gone = create_space(organization, name="gone")
    Space.objects.filter(pk=locked.pk).update(state="LOCKED")
    Space.objects.filter(pk=gone.pk).update(state="DELETION")
    Grant.objects.create(user=member, scope=Scope.SPACE, role=Role.TRUSTEE, organization=organization, space=gone)
    Grant.objects.create(user=member, scope=Scope.SPACE, role=Role.USER, organization=organization, space=locked)

    globex = create_organization(name="globex", confidentiality="PUBLIC", owner=outsider)
    create_space(globex, name="open-data", confidentiality="PUBLIC")
    create_space(globex, name="shipments")
    Grant.objects.create(user=member, scope=Scope.ORGANIZATION, role=Role.TRUSTEE, organization=globex)

    hidden = create_organization(name="initech", confidentiality="PRIVATE")
    create_space(hidden, name="plans", confidentiality="PUBLIC")
    Grant.objects.create(user=admin_user, scope=Scope.ORGANIZATION, role=Role.ACCESS, organization=hidden)

    closing = create_organization(name="umbrella", owner=admin_user)
    create_space(closing, name="archive")
    Organization.objects.filter(pk=closing.pk).update(state="DELETION")
    locked_org = create_organization(name="hooli")
    Grant.objects.create(user=owner, scope=Scope.ORGANIZATION, role=Role.ADMIN, organization=locked_org)
    Organization.objects.filter(pk=locked_org.pk).update(state="LOCKED")


def contexts(owner: Any, member: Any, outsider: Any, admin_user: Any, platform_admin: Any) -> dict[str, AccessContext]:
    users = {"owner": owner, "member": member, "outsider": outsider, "admin": admin_user, "root": platform_admin}
    found = {name: AccessContext.for_user(user) for name, user in users.items()}
    found["anonymous"] = AccessContext.for_user(None)
    found["all-public"] = AccessContext(facts=facts_from_role_names(("org_all_public", "spc_all_public")))
    found["member+all-public"] = AccessContext.for_user(
        member, extra_facts=facts_from_role_names(("org_all_public", "spc_all_public"))
    )
    return found


def disagreements(
    context: AccessContext,
    objects: list[Any],
    predicate: Callable[[AccessContext, Any], bool],
    queryset: QuerySet[Any],
) -> list[str]:
    listed = set(queryset.values_list("pk", flat=True))
    return [str(obj) for obj in objects if predicate(context, obj) is not (obj.pk in listed)]


@pytest.mark.usefixtures("world")
def test_predicates_and_querysets_agree_on_organizations(
    owner: Any, member: Any, outsider: Any, admin_user: Any, platform_admin: Any
) -> None:
    organizations = list(Organization.objects.all())
    failures = []
    for actor, context in contexts(owner, member, outsider, admin_user, platform_admin).items():
        for rule, (predicate, queryset) in ORGANIZATION_RULES.items():
            if wrong := disagreements(context, organizations, predicate, getattr(context, queryset)()):
                failures.append(f"{actor} / {rule}: {wrong}")
    assert not failures, "\n".join(failures)


@pytest.mark.usefixtures("world")
def test_predicates_and_querysets_agree_on_spaces(
    owner: Any, member: Any, outsider: Any, admin_user: Any, platform_admin: Any
) -> None:
    spaces = list(Space.objects.select_related("organization"))
    assert len(spaces) >= 12
    failures = []
    answers: set[tuple[str, bool]] = set()
    for actor, context in contexts(owner, member, outsider, admin_user, platform_admin).items():
        for rule, (predicate, queryset) in SPACE_RULES.items():
            if wrong := disagreements(context, spaces, predicate, getattr(context, queryset)()):
                failures.append(f"{actor} / {rule}: {wrong}")
            answers |= {(rule, predicate(context, space)) for space in spaces}
    assert not failures, "\n".join(failures)
    assert answers == {(rule, verdict) for rule in SPACE_RULES for verdict in (True, False)}, "a rule never varied"
