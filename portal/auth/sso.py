"""Single sign-on: the identity provider's role claims become the user's SSO grants.

The provider is the source of truth for grants it gave: at every sign-in the user's
``source=sso`` grants are made to match the roles claimed now. Grants given in Spaceport
(``source=manual``) are never touched; a claimed role the user already holds manually is
left as it is.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from portal.audit.trail import record
from portal.tenancy.grants import Grant, Source
from portal.tenancy.roleclaims import ResolvedRole, parse_role_claims, resolve_role_claims, role_names_from_claims

GrantKey = tuple[str, str, int | None, int | None]


@dataclass
class SsoSync:
    """What one sign-in changed, for the audit trail and for tests."""

    role_names: list[str]
    added: list[Grant] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    kept: int = 0


def role_names_from_login(extra_data: Mapping[str, Any]) -> list[str]:
    """Role names from what allauth keeps of an OIDC sign-in: the ID token and the userinfo answer.

    allauth stores both under ``id_token`` and ``userinfo``; older versions stored the claims flat.
    """
    sources = [extra_data.get("id_token"), extra_data.get("userinfo")]
    claim_sets = [claims for claims in sources if isinstance(claims, Mapping)] or [extra_data]
    names: list[str] = []
    for claims in claim_sets:
        names.extend(role_names_from_claims(claims))
    return list(dict.fromkeys(names))


def _key(scope: str, role: str, organization_id: int | None, space_id: int | None) -> GrantKey:
    return (scope, role, organization_id, space_id)


def _resolved_key(resolved: ResolvedRole) -> GrantKey:
    return _key(
        resolved.scope,
        resolved.role,
        resolved.organization.pk if resolved.organization else None,
        resolved.space.pk if resolved.space else None,
    )


def synchronize_sso_grants(user: Any, role_names: list[str]) -> SsoSync:
    """Make ``user``'s SSO grants match ``role_names``; each grant change is audited by the model signals."""
    wanted = {_resolved_key(role): role for role in resolve_role_claims(parse_role_claims(role_names))}
    sync = SsoSync(role_names=list(role_names))
    with transaction.atomic():
        held = list(
            Grant.objects.select_for_update(of=("self",)).filter(user=user).select_related("organization", "space")
        )
        held_keys = {_key(g.scope, g.role, g.organization_id, g.space_id): g for g in held}
        for key, grant in held_keys.items():
            if grant.source == Source.SSO and key not in wanted:
                sync.removed.append(grant.role_label)
                grant.delete()
        for key, role in wanted.items():
            if key in held_keys:
                sync.kept += 1
                continue
            sync.added.append(
                Grant.objects.create(
                    user=user,
                    scope=role.scope,
                    role=role.role,
                    organization=role.organization,
                    space=role.space,
                    source=Source.SSO,
                )
            )
    return sync


def sign_in_from_provider(user: Any, claims: Mapping[str, Any], *, provider_id: str) -> SsoSync:
    """Everything Spaceport does when someone signs in through the identity provider."""
    sync = synchronize_sso_grants(user, role_names_from_login(claims))
    record(
        "sso.login",
        user,
        actor=user,
        details={
            "provider": provider_id,
            "roles": sync.role_names,
            "added": [grant.role_label for grant in sync.added],
            "removed": sync.removed,
        },
    )
    return sync
