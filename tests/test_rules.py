"""The access rules, as a table: every example combination from the AccessManager reference
(reference/003, "Security-Examples") and the opposite cases, plus the defects Spaceport fixes.

Each row builds the organization ``orga1`` with ``space1`` (and the loadingzone), gives the
principal the listed role claims, and checks one action. Every row is also checked against the
queryset form of the rules, so listings and single checks can never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from portal.tenancy.changes import create_organization, create_space
from portal.tenancy.grants import Grant, Role, Scope
from portal.tenancy.models import LOADINGZONE, Organization, Space
from portal.tenancy.roleclaims import facts_from_role_names
from portal.tenancy.rules import AccessContext

PUBLIC, INTERNAL, PRIVATE = "PUBLIC", "INTERNAL", "PRIVATE"


@dataclass(frozen=True)
class Row:
    claims: tuple[str, ...]
    action: str
    expected: bool
    org: str = INTERNAL
    space: str = INTERNAL
    target: str = "space1"
    org_state: str = "OPEN"
    space_state: str = "OPEN"

    def __str__(self) -> str:
        verdict = "may" if self.expected else "may not"
        return (
            f"{'+'.join(self.claims) or 'nothing'} {verdict} {self.action} {self.target} "
            f"(org {self.org}/{self.org_state}, space {self.space}/{self.space_state})"
        )


SUPPLIER = ("org_orga1_access", "spc_space1_supplier")
TRUSTEE = ("org_orga1_access", "spc_space1_trustee")

TABLE = [
    # Storing into a PRIVATE/INTERNAL space1 in orga1 (reference: both combinations valid).
    *(Row(SUPPLIER, "write", True, space=conf) for conf in (PRIVATE, INTERNAL)),
    *(Row(TRUSTEE, "write", True, space=conf) for conf in (PRIVATE, INTERNAL)),
    # ...and the opposites: a reader, a space role without the organization, an admin without a space role.
    Row(("org_orga1_access", "spc_space1_user"), "write", False),
    Row(("spc_space1_supplier",), "write", False),
    Row(("org_orga1_admin",), "write", False),
    Row(("org_orga1_access",), "read", False),
    Row(("org_all_public", "spc_space1_supplier"), "write", False, org=PUBLIC, space=PUBLIC),
    # Reading from a PUBLIC space1 in orga1: the nine valid combinations of the reference.
    *(
        Row(("org_orga1_access", f"spc_space1_{r}"), "read", True, space=PUBLIC)
        for r in ("user", "supplier", "trustee")
    ),
    *(
        Row(("org_all_public", f"spc_space1_{r}"), "read", True, org=PUBLIC, space=PUBLIC)
        for r in ("user", "supplier", "trustee")
    ),
    Row(("org_orga1_access", "spc_all_public"), "read", True, space=PUBLIC),
    Row(("org_all_public", "spc_all_public"), "read", True, org=PUBLIC, space=PUBLIC),
    # ...and the opposites.
    Row(("org_all_public", "spc_space1_user"), "read", False, org=INTERNAL, space=PUBLIC),
    Row(("spc_all_public",), "read", False, space=PUBLIC),
    Row(("org_orga1_access", "spc_all_public"), "read", False, space=INTERNAL),
    Row(("org_all_public", "spc_all_public"), "read", False, org=PUBLIC, space=INTERNAL),
    # A PRIVATE organization overrides PUBLIC spaces.
    Row(("org_orga1_access", "spc_all_public"), "read", False, org=PRIVATE, space=PUBLIC),
    Row(("org_all_public", "spc_all_public"), "read", False, org=PRIVATE, space=PUBLIC),
    # The all-public grants are only for open organizations.
    Row(("org_orga1_access", "spc_all_public"), "read", False, space=PUBLIC, org_state="CLOSED"),
    # Uploading to or deleting from a PUBLIC space1: all_public is never enough.
    Row(("org_orga1_access", "spc_all_public"), "write", False, space=PUBLIC),
    Row(("org_all_public", "spc_all_public"), "write", False, org=PUBLIC, space=PUBLIC),
    Row(("org_all_public", "spc_all_public"), "delete", False, org=PUBLIC, space=PUBLIC),
    Row(("org_orga1_access", "spc_all_public"), "delete", False, space=PUBLIC),
    Row(SUPPLIER, "write", True, space=PUBLIC),
    Row(SUPPLIER, "delete", False, space=PUBLIC),
    Row(TRUSTEE, "write", True, space=PUBLIC),
    Row(TRUSTEE, "delete", True, space=PUBLIC),
    Row(("org_orga1_access", "spc_space1_user"), "delete", False),
    # The loadingzone: whoever may write to any space of the organization may read, write and delete there.
    *(Row(SUPPLIER, action, True, target=LOADINGZONE) for action in ("read", "write", "delete")),
    *(Row(TRUSTEE, action, True, target=LOADINGZONE) for action in ("read", "write", "delete")),
    *(Row(("org_orga1_access", "spc_space1_user"), a, False, target=LOADINGZONE) for a in ("read", "write", "delete")),
    Row(("org_all_public", "spc_all_public"), "read", False, org=PUBLIC, space=PUBLIC, target=LOADINGZONE),
    Row(SUPPLIER, "write", False, target=LOADINGZONE, space_state="LOCKED"),
    # Spaces in DELETION are invisible; data in spaces or organizations that are not OPEN cannot change.
    Row(TRUSTEE, "read", False, space_state="DELETION"),
    Row(("org_orga1_trustee",), "read", False, space_state="DELETION"),
    Row(TRUSTEE, "read", True, space_state="LOCKED"),
    Row(TRUSTEE, "write", False, space_state="LOCKED"),
    Row(TRUSTEE, "delete", False, space_state="CLOSED"),
    Row(TRUSTEE, "write", False, org_state="LOCKED"),
    Row(TRUSTEE, "read", False, org_state="DELETION"),
    # The organization trustee holds trustee rights in every space of its organization.
    *(Row(("org_orga1_trustee",), action, True) for action in ("read", "write", "delete")),
    # The precise form <org>_<space>_<role>.
    Row(("org_orga1_access", "orga1_space1_supplier"), "write", True),
    Row(("org_orga1_access", "orga1_space1_user"), "write", False),
    Row(("org_orga1_access", "orga1_space1_user"), "read", True),
    # Platform admins pass every check.
    *(Row(("SDK_ADMIN",), action, True, org=PRIVATE, space=PRIVATE) for action in ("read", "write", "delete")),
    Row(("SDK_ADMIN",), "read", True, space_state="DELETION"),
    # Names that are not roles give nothing.
    Row(("org_orga1_owner", "spc_space1_admin", "orga1-space1-trustee"), "read", False, space=PUBLIC),
]


def _build(row: Row) -> tuple[Organization, Space]:
    organization = create_organization(name="orga1", confidentiality=row.org)
    space1 = create_space(organization, name="space1", confidentiality=row.space)
    target = space1 if row.target == "space1" else organization.spaces.get(name=row.target)
    Space.objects.filter(pk__in=[space1.pk, target.pk]).update(state=row.space_state)
    Organization.objects.filter(pk=organization.pk).update(state=row.org_state)
    target = Space.objects.select_related("organization").get(pk=target.pk)
    return target.organization, target


@pytest.mark.parametrize("row", TABLE, ids=str)
def test_role_table(db: None, row: Row) -> None:
    _, target = _build(row)
    context = AccessContext(facts=facts_from_role_names(row.claims))
    decision = {"read": context.may_read, "write": context.may_write, "delete": context.may_delete}[row.action]
    assert decision(target) is row.expected
    if row.action == "read":
        assert context.readable_spaces().filter(pk=target.pk).exists() is row.expected


def test_the_table_covers_every_reference_example() -> None:
    """The reference lists 2 store and 9 read combinations (three of them repeated); all are rows."""
    reads = {r.claims for r in TABLE if r.action == "read" and r.expected and r.space == PUBLIC}
    for combination in [
        *(("org_orga1_access", f"spc_space1_{r}") for r in ("user", "supplier", "trustee")),
        *(("org_all_public", f"spc_space1_{r}") for r in ("user", "supplier", "trustee")),
        ("org_orga1_access", "spc_all_public"),
    ]:
        assert combination in reads
    writes = {r.claims for r in TABLE if r.action == "write" and r.expected}
    assert SUPPLIER in writes
    assert TRUSTEE in writes


# --- AccessManager's defect: space roles matched by name only ---


@pytest.fixture
def two_organizations(db: None) -> tuple[Space, Space]:
    orga1 = create_organization(name="orga1")
    orga2 = create_organization(name="orga2")
    return create_space(orga1, name="space1"), create_space(orga2, name="space1")


def test_a_space_grant_counts_only_in_its_own_organization(
    two_organizations: tuple[Space, Space], member: object
) -> None:
    in_orga1, in_orga2 = two_organizations
    for org in (in_orga1.organization, in_orga2.organization):
        Grant.objects.create(user=member, scope=Scope.ORGANIZATION, role=Role.ACCESS, organization=org)
    Grant.objects.create(
        user=member, scope=Scope.SPACE, role=Role.SUPPLIER, organization=in_orga2.organization, space=in_orga2
    )
    context = AccessContext.for_user(member)
    assert context.may_write(in_orga2)
    assert not context.may_write(in_orga1)
    assert not context.may_read(in_orga1)
    assert list(context.readable_spaces().filter(name="space1")) == [in_orga2]


def test_a_precise_space_claim_counts_only_in_its_own_organization(two_organizations: tuple[Space, Space]) -> None:
    in_orga1, in_orga2 = two_organizations
    context = AccessContext(
        facts=facts_from_role_names(["org_orga1_access", "org_orga2_access", "orga2_space1_supplier"])
    )
    assert context.may_write(in_orga2)
    assert not context.may_write(in_orga1)


def test_an_ambiguous_legacy_space_claim_is_not_guessed(two_organizations: tuple[Space, Space]) -> None:
    in_orga1, in_orga2 = two_organizations
    context = AccessContext(
        facts=facts_from_role_names(["org_orga1_access", "org_orga2_access", "spc_space1_supplier"])
    )
    assert not context.may_write(in_orga1)
    assert not context.may_write(in_orga2)


def test_a_legacy_space_claim_applies_where_it_is_unambiguous(two_organizations: tuple[Space, Space]) -> None:
    in_orga1, in_orga2 = two_organizations
    context = AccessContext(facts=facts_from_role_names(["org_orga1_access", "spc_space1_supplier"]))
    assert context.may_write(in_orga1)
    assert not context.may_write(in_orga2)


def test_supplier_in_one_organization_gets_no_loadingzone_elsewhere(two_organizations: tuple[Space, Space]) -> None:
    in_orga1, in_orga2 = two_organizations
    context = AccessContext(facts=facts_from_role_names(["org_orga1_access", "orga1_space1_supplier"]))
    assert context.may_delete(in_orga1.organization.spaces.get(name=LOADINGZONE))
    assert not context.may_read(in_orga2.organization.spaces.get(name=LOADINGZONE))


def test_group_grants_count_for_members(space: Space, outsider: object) -> None:
    from django.contrib.auth.models import Group

    team = Group.objects.create(name="analysts")
    team.user_set.add(outsider)  # type: ignore[attr-defined]
    Grant.objects.create(group=team, scope=Scope.ORGANIZATION, role=Role.ACCESS, organization=space.organization)
    Grant.objects.create(group=team, scope=Scope.SPACE, role=Role.USER, organization=space.organization, space=space)
    context = AccessContext.for_user(outsider)
    assert context.may_read(space)
    assert not context.may_write(space)


def test_loading_a_context_takes_one_query(space: Space, member: object, django_assert_num_queries: object) -> None:
    with django_assert_num_queries(1):  # type: ignore[operator]
        context = AccessContext.for_user(member)
    assert context.may_write(space)


def test_ownership_and_group_grants_arrive_in_the_same_query(
    organization: Organization, owner: object, member: object, django_assert_num_queries: object
) -> None:
    from django.contrib.auth.models import Group

    team = Group.objects.create(name="owners-team")
    team.user_set.add(owner)  # type: ignore[attr-defined]
    Grant.objects.create(group=team, scope=Scope.ORGANIZATION, role=Role.TRUSTEE, organization=organization)
    with django_assert_num_queries(1):  # type: ignore[operator]
        context = AccessContext.for_user(owner)
    assert context.is_owner(organization)
    assert context.may_administer(organization)
    assert context.organization_roles(organization) == {"trustee"}
    assert not AccessContext.for_user(member).is_owner(organization)


def test_who_may_create(organization: Organization, owner: object, member: object, platform_admin: object) -> None:
    assert AccessContext.for_user(platform_admin).may_create_organization()
    assert not AccessContext.for_user(owner).may_create_organization()
    assert AccessContext(facts=facts_from_role_names(["org_create_permission"])).may_create_organization()
    assert AccessContext.for_user(owner).may_create_space(organization)
    assert not AccessContext.for_user(member).may_create_space(organization)
