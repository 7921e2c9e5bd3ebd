"""Simulating a request for an organization's admins: the questions they may ask, answered by
:mod:`accessgrants.decisions`, the code the S3 gateway asks, so the simulator cannot disagree with it.

An organization admin asks about the people of their organization and its buckets; a platform admin
about anyone (still about the organization's buckets, where its policies apply). Either may ask
about an access key of the organization instead of a person: the answer is
:func:`~accessgrants.decisions.decide_for_key`'s, the gateway's own. A key of another organization
is refused exactly as one that does not exist.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model

from accessgrants.decisions import abilities, decide, decide_for_key
from accessgrants.identitypolicies import organization_users
from accessgrants.keyprincipals import KeyPrincipal, key_principal
from accessgrants.policies import Decision
from accessgrants.policies.actions import canonical_action
from accessgrants.policies.buckets import bucket_prefix, resource_path
from portal.core.errors import DomainError
from portal.tenancy.models import Organization, Space


def check_subject(organization: Organization, user: Any, *, platform_admin: bool) -> None:
    if platform_admin:
        return
    if not get_user_model()._default_manager.filter(organization_users(organization), pk=user.pk).exists():
        raise DomainError("user", f"No user of the organization has the e-mail address {user.email}.", "does_not_exist")


def check_key(organization: Organization, access_key_id: str) -> KeyPrincipal:
    """The organization's key of this id; any other answers as a key that does not exist."""
    principal = key_principal(access_key_id)
    if principal is None or principal.organization_id != organization.pk:
        raise DomainError(
            "access_key", f"The organization {organization.name} has no access key {access_key_id}.", "does_not_exist"
        )
    return principal


def owner_of(access_key_id: str) -> Any:
    """The owner of a key :func:`check_key` has let through."""
    principal = key_principal(access_key_id)
    if principal is None:
        raise DomainError("access_key", f"There is no access key {access_key_id}.", "does_not_exist")
    return principal.owner


def simulate(
    organization: Organization,
    user: Any,
    action: str,
    resource: str,
    *,
    platform_admin: bool,
    access_key: str | None = None,
    source_ip: str | None = None,
    when: datetime | None = None,
    secure: bool = True,
    facts: dict[str, object] | None = None,
) -> Decision:
    """The decision on one request, by ``user`` or, when ``access_key`` is given, with that key."""
    if access_key:
        check_key(organization, access_key)
    else:
        check_subject(organization, user, platform_admin=platform_admin)
    canonical = canonical_action(action)
    if canonical is None:
        raise DomainError("action", f"unknown action {action}")
    if not resource_path(resource).startswith(bucket_prefix(organization.name)):
        raise DomainError("resource", f"{resource} is no bucket of the organization {organization.name}.")
    circumstances: dict[str, Any] = {"source_ip": source_ip, "when": when, "secure": secure, "context": facts}
    if access_key:
        return decide_for_key(access_key, canonical, resource, **circumstances)
    return decide(user, canonical, resource, organization=organization, **circumstances)


def space_table(
    organization: Organization,
    user: Any,
    space_name: str,
    *,
    platform_admin: bool,
    key: str = "*",
    source_ip: str | None = None,
    when: datetime | None = None,
    secure: bool = True,
    access_key: str | None = None,
) -> tuple[Space, list[tuple[str, str, Decision]]]:
    """What ``user`` (or the holder of ``access_key``) may do in the space, action by action."""
    if access_key:
        user = check_key(organization, access_key).owner
    else:
        check_subject(organization, user, platform_admin=platform_admin)
    space = organization.spaces.filter(name=space_name).first()
    if space is None:
        raise DomainError(
            "space", f"The organization {organization.name} has no space named {space_name}.", "does_not_exist"
        )
    return space, abilities(
        user,
        space,
        key=key or "*",
        source_ip=source_ip,
        when=when,
        secure=secure,
        access_key_id=access_key or None,
    )


def decision_answer(decision: Decision) -> dict[str, Any]:
    """A decision as the API and the pages show it."""
    return {
        "decision": "allow" if decision.allowed else "deny",
        "outcome": str(decision.outcome),
        "statements": [
            {"policy": ref.policy, "sid": ref.sid, "index": ref.index, "effect": ref.effect}
            for ref in decision.statements
        ],
        "reason": decision.reason,
    }
