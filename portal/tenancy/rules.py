"""The one place that decides who may read, write or delete in a space.

The rules are AccessManager's (reference 003), kept compatible, with its defects fixed:

* Platform admins (``SDK_ADMIN``) pass every check.
* Reading a space needs access to its organization (an organization role, ownership, or
  ``org_all_public`` on a PUBLIC, OPEN organization) and a way into the space: a space role,
  the organization ``trustee`` role, or ``spc_all_public`` on a PUBLIC space whose
  organization is OPEN and not PRIVATE (a PRIVATE organization overrides PUBLIC spaces).
* Writing needs membership of the organization (an organization role or ownership: the
  all-public grants never give write or delete) and the ``supplier`` or ``trustee`` space role,
  or the organization ``trustee`` role. Deleting needs ``trustee`` on the space or organization.
* In the loadingzone, anyone who may write to any space of the organization may read,
  write and delete.
* Spaces (and organizations) marked for DELETION are invisible; data in a space or
  organization that is not OPEN (CLOSED, LOCKED) can be read but not changed.
* A space role counts only in its own organization.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import BigIntegerField, F, Q, QuerySet, Value

from portal.tenancy.grants import Grant, Role, Scope
from portal.tenancy.models import LOADINGZONE, Confidentiality, Organization, Space, State

READ_ROLES = frozenset({Role.USER, Role.SUPPLIER, Role.TRUSTEE})
WRITE_ROLES = frozenset({Role.SUPPLIER, Role.TRUSTEE})
DELETE_ROLES = frozenset({Role.TRUSTEE})
ORG_MEMBER_ROLES = frozenset({Role.ACCESS, Role.ADMIN, Role.TRUSTEE})
OWNERSHIP = "owner"


@dataclass(frozen=True)
class RoleFact:
    """One role held, with what the rules need to know of its target, so checks need no queries."""

    scope: str
    role: str
    organization_id: int | None = None
    organization_state: str = ""
    space_id: int | None = None
    space_name: str = ""
    space_state: str = ""


@dataclass
class AccessContext:
    """A principal's roles, loaded once and asked many questions."""

    user_id: int | None = None
    facts: list[RoleFact] = field(default_factory=list)
    owned_organization_ids: frozenset[int] = frozenset()
    superuser: bool = False

    def __post_init__(self) -> None:
        self._org_roles: dict[int, set[str]] = defaultdict(set)
        self._space_roles: dict[int, set[str]] = defaultdict(set)
        self._writable_space_orgs: set[int] = set()
        self.platform_admin = self.superuser
        self.org_creator = False
        self.org_all_public = False
        self.spc_all_public = False
        for fact in self.facts:
            self._absorb(fact)

    def _absorb(self, fact: RoleFact) -> None:
        if fact.scope == Scope.PLATFORM:
            self.platform_admin |= fact.role == Role.SDK_ADMIN
            self.org_creator |= fact.role == Role.ORG_CREATOR
        elif fact.scope == Scope.PUBLIC:
            self.org_all_public |= fact.role == Role.ORG_ALL_PUBLIC
            self.spc_all_public |= fact.role == Role.SPC_ALL_PUBLIC
        elif fact.scope == Scope.ORGANIZATION and fact.organization_id is not None:
            self._org_roles[fact.organization_id].add(fact.role)
        elif fact.scope == Scope.SPACE and fact.space_id is not None and fact.organization_id is not None:
            self._space_roles[fact.space_id].add(fact.role)
            if (
                fact.role in WRITE_ROLES
                and fact.space_name != LOADINGZONE
                and fact.space_state == State.OPEN
                and fact.organization_state == State.OPEN
            ):
                self._writable_space_orgs.add(fact.organization_id)

    # --- loading ---

    @classmethod
    def for_user(cls, user: object, extra_facts: Iterable[RoleFact] = ()) -> AccessContext:
        """A user's own and their groups' grants, and their ownerships: one query, then a snapshot
        until anything that can change access changes (see :mod:`portal.core.snapshots`)."""
        if user is None or not getattr(user, "is_authenticated", False):
            return cls(facts=list(extra_facts))
        from portal.core import snapshots

        user_id: int = user.pk  # type: ignore[attr-defined]
        facts, owned = snapshots.cached("grants", str(user_id), lambda: _stored_roles(user_id))
        return cls(
            user_id=user_id,
            facts=[*facts, *extra_facts],
            owned_organization_ids=owned,
            superuser=user.is_superuser,  # type: ignore[attr-defined]
        )

    # --- organizations ---

    def organization_roles(self, organization: Organization) -> frozenset[str]:
        return frozenset(self._org_roles.get(organization.pk, ()))

    def space_roles(self, space: Space) -> frozenset[str]:
        return frozenset(self._space_roles.get(space.pk, ()))

    def is_owner(self, organization: Organization) -> bool:
        return organization.pk in self.owned_organization_ids

    def is_member(self, organization: Organization) -> bool:
        """Explicit membership: an organization role or ownership (never the all-public grant)."""
        return bool(self._org_roles.get(organization.pk)) or self.is_owner(organization)

    def may_administer(self, organization: Organization) -> bool:
        """Admins and owners manage an organization's settings, spaces and grants."""
        return (
            self.platform_admin or Role.ADMIN in self._org_roles.get(organization.pk, ()) or self.is_owner(organization)
        )

    def may_access_organization(self, organization: Organization) -> bool:
        if self.platform_admin:
            return True
        if organization.state == State.DELETION:
            return self.may_administer(organization)
        if self.is_member(organization):
            return True
        return (
            self.org_all_public
            and organization.confidentiality == Confidentiality.PUBLIC
            and organization.state == State.OPEN
        )

    def may_create_organization(self) -> bool:
        return self.platform_admin or self.org_creator

    def may_create_space(self, organization: Organization) -> bool:
        return self.may_administer(organization) and organization.state != State.DELETION

    def may_write_any_space(self, organization: Organization) -> bool:
        """Whether some space of the organization takes this principal's uploads (the loadingzone rule)."""
        if self.platform_admin:
            return True
        if organization.state != State.OPEN or not self.is_member(organization):
            return False
        return Role.TRUSTEE in self._org_roles.get(organization.pk, ()) or organization.pk in self._writable_space_orgs

    # --- spaces ---

    def _effectively_public(self, space: Space) -> bool:
        organization = space.organization
        return (
            space.confidentiality == Confidentiality.PUBLIC
            and organization.confidentiality != Confidentiality.PRIVATE
            and organization.state == State.OPEN
        )

    def may_read(self, space: Space) -> bool:
        if self.platform_admin:
            return True
        organization = space.organization
        if space.state == State.DELETION or organization.state == State.DELETION:
            return False
        if not self.may_access_organization(organization):
            return False
        if Role.TRUSTEE in self._org_roles.get(organization.pk, ()):
            return True
        if self._space_roles.get(space.pk, set()) & READ_ROLES:
            return True
        if self.spc_all_public and self._effectively_public(space):
            return True
        return space.is_loadingzone and self.may_write_any_space(organization)

    def _may_change(self, space: Space, space_roles: frozenset[str]) -> bool:
        if self.platform_admin:
            return True
        organization = space.organization
        if space.state != State.OPEN or organization.state != State.OPEN:
            return False
        if not self.is_member(organization):
            return False
        if Role.TRUSTEE in self._org_roles.get(organization.pk, ()):
            return True
        if self._space_roles.get(space.pk, set()) & space_roles:
            return True
        return space.is_loadingzone and self.may_write_any_space(organization)

    def may_write(self, space: Space) -> bool:
        return self._may_change(space, WRITE_ROLES)

    def may_delete(self, space: Space) -> bool:
        return self._may_change(space, DELETE_ROLES)

    def may_see_space(self, space: Space) -> bool:
        """Whether the space is listed: its data is readable, or this principal runs its organization."""
        return self.may_read(space) or self.may_administer(space.organization)

    def effective_access(self, space: Space) -> str:
        """The strongest access held, for display: delete, write, read or none."""
        if self.may_delete(space):
            return "delete"
        if self.may_write(space):
            return "write"
        if self.may_read(space):
            return "read"
        return "none"

    # --- querysets ---

    def visible_organizations(self, queryset: QuerySet[Organization] | None = None) -> QuerySet[Organization]:
        """Organizations this principal may see; a view never shows one this would hide."""
        queryset = Organization.objects.all() if queryset is None else queryset
        if self.platform_admin:
            return queryset
        member_ids = set(self._org_roles) | set(self.owned_organization_ids)
        administered = self._administered_ids()
        condition = Q(pk__in=member_ids) & ~Q(state=State.DELETION)
        condition |= Q(pk__in=administered)
        if self.org_all_public:
            condition |= Q(confidentiality=Confidentiality.PUBLIC, state=State.OPEN)
        return queryset.filter(condition)

    def administered_organizations(self, queryset: QuerySet[Organization] | None = None) -> QuerySet[Organization]:
        """Organizations this principal runs; mirrors ``may_administer`` as one query."""
        queryset = Organization.objects.all() if queryset is None else queryset
        if self.platform_admin:
            return queryset
        return queryset.filter(pk__in=self._administered_ids())

    def _administered_ids(self) -> set[int]:
        return {org_id for org_id, roles in self._org_roles.items() if Role.ADMIN in roles} | set(
            self.owned_organization_ids
        )

    def readable_spaces(self, queryset: QuerySet[Space] | None = None) -> QuerySet[Space]:
        """Spaces whose data this principal may read; mirrors ``may_read`` as one query."""
        queryset = Space.objects.all() if queryset is None else queryset
        if self.platform_admin:
            return queryset
        member_ids = set(self._org_roles) | set(self.owned_organization_ids)
        org_access = Q(organization_id__in=member_ids)
        if self.org_all_public:
            org_access |= Q(organization__confidentiality=Confidentiality.PUBLIC, organization__state=State.OPEN)
        trustee_orgs = {org_id for org_id, roles in self._org_roles.items() if Role.TRUSTEE in roles}
        way_in = Q(organization_id__in=trustee_orgs) | Q(
            pk__in=[space_id for space_id, roles in self._space_roles.items() if roles & READ_ROLES]
        )
        if self.spc_all_public:
            way_in |= Q(confidentiality=Confidentiality.PUBLIC, organization__state=State.OPEN) & ~Q(
                organization__confidentiality=Confidentiality.PRIVATE
            )
        loadingzone_orgs = (trustee_orgs | self._writable_space_orgs) & member_ids
        way_in |= Q(name=LOADINGZONE, organization_id__in=loadingzone_orgs, organization__state=State.OPEN)
        alive = ~Q(state=State.DELETION) & ~Q(organization__state=State.DELETION)
        return queryset.filter(alive & org_access & way_in)

    def visible_spaces(self, queryset: QuerySet[Space] | None = None) -> QuerySet[Space]:
        """Spaces listed to this principal: the readable ones, and every space of an organization they run."""
        queryset = Space.objects.all() if queryset is None else queryset
        if self.platform_admin:
            return queryset
        readable = self.readable_spaces(queryset).values("pk")
        return queryset.filter(Q(pk__in=readable) | Q(organization_id__in=self._administered_ids()))

    def writable_spaces(self, queryset: QuerySet[Space] | None = None) -> QuerySet[Space]:
        """Spaces whose data this principal may change; mirrors ``may_write`` as one query."""
        return self._changeable_spaces(queryset, WRITE_ROLES)

    def deletable_spaces(self, queryset: QuerySet[Space] | None = None) -> QuerySet[Space]:
        """Spaces whose data this principal may delete; mirrors ``may_delete`` as one query."""
        return self._changeable_spaces(queryset, DELETE_ROLES)

    def _changeable_spaces(self, queryset: QuerySet[Space] | None, roles: frozenset[str]) -> QuerySet[Space]:
        queryset = Space.objects.all() if queryset is None else queryset
        if self.platform_admin:
            return queryset
        member_ids = set(self._org_roles) | set(self.owned_organization_ids)
        trustee_orgs = {org_id for org_id, held in self._org_roles.items() if Role.TRUSTEE in held}
        way_in = Q(organization_id__in=trustee_orgs) | Q(
            pk__in=[space_id for space_id, held in self._space_roles.items() if held & roles]
        )
        loadingzone_orgs = (trustee_orgs | self._writable_space_orgs) & member_ids
        way_in |= Q(name=LOADINGZONE, organization_id__in=loadingzone_orgs)
        open_to_change = Q(state=State.OPEN, organization__state=State.OPEN, organization_id__in=member_ids)
        return queryset.filter(open_to_change & way_in)


def _stored_roles(user_id: int) -> tuple[list[RoleFact], frozenset[int]]:
    """Grants (direct and through groups) and ownerships of one user, in one UNION query.

    Both halves drop their default ordering: SQLite refuses ORDER BY inside a compound query,
    and the facts are unordered anyway.
    """
    columns = ("scope", "role", "organization_id", "organization__state", "space_id", "space__name", "space__state")
    grants = Grant.objects.filter(Q(user_id=user_id) | Q(group__user__id=user_id)).order_by().values_list(*columns)
    ownerships = (
        Organization.owners.through.objects.filter(user_id=user_id)
        .order_by()
        .annotate(
            scope=Value(OWNERSHIP),
            role=Value(""),
            org_state=F("organization__state"),
            space_id=Value(None, output_field=BigIntegerField()),
            space_name=Value(""),
            space_state=Value(""),
        )
        .values_list(  # type: ignore[misc]
            "scope", "role", "organization_id", "org_state", "space_id", "space_name", "space_state"
        )
    )
    facts: list[RoleFact] = []
    owned: set[int] = set()
    for scope, role, org_id, org_state, space_id, space_name, space_state in grants.union(ownerships):
        if scope == OWNERSHIP:
            owned.add(org_id)
        else:
            facts.append(RoleFact(scope, role, org_id, org_state or "", space_id, space_name or "", space_state or ""))
    return facts, frozenset(owned)
