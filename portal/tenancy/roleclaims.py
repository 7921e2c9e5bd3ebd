"""Role names from an identity provider, in AccessManager's naming, turned into grants.

Recognised names (case-sensitive, as AccessManager matches them):

* ``SDK_ADMIN``: platform admin; ``org_create_permission``: may create organizations.
* ``org_all_public``, ``spc_all_public``: the all-public grants.
* ``org_<org>_access|admin|trustee``: an organization role.
* ``<org>_<space>_user|supplier|trustee``: a space role, precise.
* ``spc_<space>_user|supplier|trustee``: a space role by space name only (legacy). It is
  honoured only where it is unambiguous: in the one organization, among those the same
  claims give access to, that has a space of that name. AccessManager applied it to every
  organization's space of that name; Spaceport refuses to guess.

Organization names ``org`` and ``spc`` are reserved so that the forms cannot be confused.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.db.models import Q

from portal.tenancy.grants import Role, Scope
from portal.tenancy.models import LOADINGZONE, RESERVED_ORGANIZATION_NAMES, Confidentiality, Organization, Space, State
from portal.tenancy.rules import RoleFact

logger = logging.getLogger(__name__)

_ORG = r"[a-z0-9]{3,24}"
_SPACE = r"[a-z0-9-]{3,63}"
ORG_ROLE = re.compile(rf"^org_(?P<org>{_ORG})_(?P<role>access|admin|trustee)$")
LEGACY_SPACE_ROLE = re.compile(rf"^spc_(?P<space>{_SPACE})_(?P<role>user|supplier|trustee)$")
SPACE_ROLE = re.compile(rf"^(?P<org>{_ORG})_(?P<space>{_SPACE})_(?P<role>user|supplier|trustee)$")


@dataclass(frozen=True)
class RoleClaim:
    scope: str
    role: str
    organization: str = ""
    space: str = ""
    legacy: bool = False


@dataclass(frozen=True)
class ResolvedRole:
    """A claim matched to the organization and space it names."""

    scope: str
    role: str
    organization: Organization | None = None
    space: Space | None = None

    def as_fact(self) -> RoleFact:
        org = self.organization
        space = self.space
        return RoleFact(
            scope=self.scope,
            role=self.role,
            organization_id=org.pk if org else None,
            organization_state=org.state if org else "",
            space_id=space.pk if space else None,
            space_name=space.name if space else "",
            space_state=space.state if space else "",
        )


def role_names_from_claims(claims: Mapping[str, object]) -> list[str]:
    """Collect role names from ``roles`` and Keycloak's ``realm_access.roles``."""
    names: list[str] = []
    direct = claims.get("roles")
    if isinstance(direct, list):
        names.extend(str(name) for name in direct)
    realm = claims.get("realm_access")
    if isinstance(realm, Mapping) and isinstance(realm.get("roles"), list):
        names.extend(str(name) for name in realm["roles"])
    return list(dict.fromkeys(names))


def parse_role_claims(names: Iterable[str]) -> list[RoleClaim]:
    """Parse role names; names that follow none of the forms are ignored."""
    parsed: list[RoleClaim] = []
    for name in names:
        claim = _parse_one(name)
        if claim is not None:
            parsed.append(claim)
    return parsed


def _parse_one(name: str) -> RoleClaim | None:
    if name == "SDK_ADMIN":
        return RoleClaim(Scope.PLATFORM, Role.SDK_ADMIN)
    if name == "org_create_permission":
        return RoleClaim(Scope.PLATFORM, Role.ORG_CREATOR)
    if name in (Role.ORG_ALL_PUBLIC, Role.SPC_ALL_PUBLIC):
        return RoleClaim(Scope.PUBLIC, name)
    if match := ORG_ROLE.match(name):
        return RoleClaim(Scope.ORGANIZATION, match["role"], organization=match["org"])
    if match := LEGACY_SPACE_ROLE.match(name):
        return RoleClaim(Scope.SPACE, match["role"], space=match["space"], legacy=True)
    if (match := SPACE_ROLE.match(name)) and match["org"] not in RESERVED_ORGANIZATION_NAMES:
        return RoleClaim(Scope.SPACE, match["role"], organization=match["org"], space=match["space"])
    return None


def resolve_role_claims(claims: Iterable[RoleClaim]) -> list[ResolvedRole]:
    """Match claims to existing organizations and spaces in one query; unknown names are skipped and logged.

    Every organization has its loadingzone (it is created with the organization and cannot be
    deleted), so the query over spaces finds the organizations named by organization roles too.
    This runs on every bearer-token request, hence the single query.
    """
    claims = list(claims)
    resolved: list[ResolvedRole] = [
        ResolvedRole(c.scope, c.role) for c in claims if c.scope in (Scope.PLATFORM, Scope.PUBLIC)
    ]
    org_role_names = {c.organization for c in claims if c.scope == Scope.ORGANIZATION}
    space_claims = [c for c in claims if c.scope == Scope.SPACE]
    precise_pairs = {(c.organization, c.space) for c in space_claims if not c.legacy}
    legacy_names = {c.space for c in space_claims if c.legacy}
    all_public = any(c.role == Role.ORG_ALL_PUBLIC for c in claims)

    condition = Q(pk__in=[])
    if org_role_names:
        condition |= Q(organization__name__in=org_role_names, name=LOADINGZONE)
    for org_name, space_name in precise_pairs:
        condition |= Q(organization__name=org_name, name=space_name)
    if legacy_names:
        reachable = Q(organization__name__in=org_role_names)
        if all_public:
            reachable |= Q(organization__confidentiality=Confidentiality.PUBLIC, organization__state=State.OPEN)
        condition |= Q(name__in=legacy_names) & reachable
    needs_lookup = bool(org_role_names or precise_pairs or legacy_names)
    spaces = list(Space.objects.filter(condition).select_related("organization")) if needs_lookup else []
    organizations = {s.organization.name: s.organization for s in spaces}

    for claim in claims:
        if claim.scope != Scope.ORGANIZATION:
            continue
        if claim.organization in organizations:
            resolved.append(ResolvedRole(claim.scope, claim.role, organizations[claim.organization]))
        else:
            logger.info("Role claim names unknown organization %r; ignored", claim.organization)

    def reachable_by_legacy(space: Space) -> bool:
        org = space.organization
        public = org.confidentiality == Confidentiality.PUBLIC and org.state == State.OPEN
        return org.name in org_role_names or (all_public and public)

    by_pair = {(s.organization.name, s.name): s for s in spaces}
    for claim in space_claims:
        if not claim.legacy:
            space = by_pair.get((claim.organization, claim.space))
            if space is None:
                logger.info("Role claim names unknown space %s/%s; ignored", claim.organization, claim.space)
                continue
            resolved.append(ResolvedRole(claim.scope, claim.role, space.organization, space))
            continue
        candidates = [s for s in spaces if s.name == claim.space and reachable_by_legacy(s)]
        if len(candidates) == 1:
            space = candidates[0]
            resolved.append(ResolvedRole(claim.scope, claim.role, space.organization, space))
        elif candidates:
            logger.warning(
                "Role claim spc_%s_%s is ambiguous across organizations %s; ignored (use <org>_<space>_<role>)",
                claim.space,
                claim.role,
                ", ".join(sorted(s.organization.name for s in candidates)),
            )
    return resolved


def facts_from_role_names(names: Iterable[str]) -> list[RoleFact]:
    """Role facts for one request, as a bearer token's claims give them (a snapshot per set of names)."""
    from portal.core import snapshots

    names = sorted(set(names))
    return snapshots.cached(
        "role-claims",
        "\n".join(names),
        lambda: [role.as_fact() for role in resolve_role_claims(parse_role_claims(names))],
    )
