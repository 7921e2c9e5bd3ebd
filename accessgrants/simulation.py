"""Simulating a request for an organization's admins: the questions they may ask, answered by
:mod:`accessgrants.decisions`, the code the S3 gateway asks, so the simulator cannot disagree with it.

An organization admin asks about the people of their organization and its buckets; a platform admin
about anyone (still about the organization's buckets, where its policies apply).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.utils import timezone

from accessgrants.decisions import abilities, decide
from accessgrants.identitypolicies import organization_users
from accessgrants.models import AccessKey
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


def key_subject(organization: Organization, access_key_id: str) -> Any:
    """The user an access key of the organization acts as; a key that cannot sign anything is refused
    with why, since every request signed with it is denied before any policy is read."""
    key = (
        AccessKey.objects.select_related("user").filter(organization=organization, access_key_id=access_key_id).first()
    )
    if key is None:
        raise DomainError(
            "access_key", f"The organization {organization.name} has no access key {access_key_id}.", "does_not_exist"
        )
    if key.status != AccessKey.Status.ACTIVE:
        raise DomainError("access_key", f"The key {access_key_id} is inactive: every request signed with it is denied.")
    if key.expires is not None and key.expires <= timezone.now():
        raise DomainError("access_key", f"The key {access_key_id} expired: every request signed with it is denied.")
    return key.user


def simulate(
    organization: Organization,
    user: Any,
    action: str,
    resource: str,
    *,
    platform_admin: bool,
    source_ip: str | None = None,
    when: datetime | None = None,
    secure: bool = True,
    facts: dict[str, object] | None = None,
) -> Decision:
    check_subject(organization, user, platform_admin=platform_admin)
    canonical = canonical_action(action)
    if canonical is None:
        raise DomainError("action", f"unknown action {action}")
    if not resource_path(resource).startswith(bucket_prefix(organization.name)):
        raise DomainError("resource", f"{resource} is no bucket of the organization {organization.name}.")
    return decide(user, canonical, resource, source_ip=source_ip, when=when, secure=secure, context=facts)


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
) -> tuple[Space, list[tuple[str, str, Decision]]]:
    check_subject(organization, user, platform_admin=platform_admin)
    space = organization.spaces.filter(name=space_name).first()
    if space is None:
        raise DomainError(
            "space", f"The organization {organization.name} has no space named {space_name}.", "does_not_exist"
        )
    return space, abilities(user, space, key=key or "*", source_ip=source_ip, when=when, secure=secure)


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
