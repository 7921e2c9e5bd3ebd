"""Granting and revoking roles, with the checks that make a grant valid and allowed."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from portal.core.errors import AccessDenied, DomainError
from portal.tenancy.grants import Grant, Scope, Source
from portal.tenancy.models import Organization, Space
from portal.tenancy.rules import AccessContext


def may_manage_grant(context: AccessContext, scope: str, organization: Organization | None) -> bool:
    """Organization admins and owners manage roles in their organization; only platform admins grant the rest."""
    if scope in (Scope.ORGANIZATION, Scope.SPACE) and organization is not None:
        return context.may_administer(organization)
    return context.platform_admin


def grant_role(
    context: AccessContext,
    *,
    role: str,
    scope: str,
    user: Any = None,
    group: Group | None = None,
    organization: Organization | None = None,
    space: Space | None = None,
    granted_by: Any = None,
    source: str = Source.MANUAL,
) -> Grant:
    """Give ``role`` to a user or group, refusing what the caller may not grant or what makes no sense."""
    if space is not None and organization is None:
        organization = space.organization
    if not may_manage_grant(context, scope, organization):
        raise AccessDenied("You may not manage roles here.")
    grant = Grant(
        user=user,
        group=group,
        scope=scope,
        role=role,
        organization=organization,
        space=space,
        granted_by=granted_by,
        source=source,
    )
    try:
        grant.clean()
    except ValidationError as exc:
        field, messages = next(iter(exc.message_dict.items()))
        raise DomainError(field, messages[0]) from exc
    if Grant.objects.filter(
        user=user, group=group, scope=scope, role=role, organization=organization, space=space
    ).exists():
        raise DomainError("role", "This role is already granted.", code="duplicate")
    try:
        with transaction.atomic():
            grant.save()
    except IntegrityError as exc:
        raise DomainError("role", "This role is already granted.", code="duplicate") from exc
    return grant


def revoke_grant(context: AccessContext, grant: Grant) -> None:
    if not may_manage_grant(context, grant.scope, grant.organization):
        raise AccessDenied("You may not manage roles here.")
    grant.delete()
