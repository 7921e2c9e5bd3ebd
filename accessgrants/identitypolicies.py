"""Keeping identity policies: checked before they are saved, attached only within their organization.

Every way in (the API, the admin) goes through these functions, so a policy that would not work
never reaches the database: :func:`check_document` turns the engine's
:class:`~accessgrants.policies.PolicyError` into a :class:`~portal.core.errors.DomainError` on the
``document`` field whose message names the place, e.g. ``Statement[2].Action: unknown action s3:Fetch``.
Creating, changing, deleting, attaching and detaching are audited by the model signals
(``identitypolicy.*``, ``policyattachment.*``).
"""

from __future__ import annotations

import json
import re
from typing import Any

from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models import Q, QuerySet

from accessgrants.models import POLICY_NAME_PATTERN, IdentityPolicy, PolicyAttachment
from accessgrants.policies import PolicyDocument, PolicyError, parse_policy
from portal.core.errors import DomainError
from portal.tenancy.grants import Grant
from portal.tenancy.models import Organization


def policy_error_message(error: PolicyError) -> str:
    """Where and why, in the notation people use for JSON paths: ``Statement[2].Action: ...``."""
    where = f"Statement[{error.statement}].{error.field}" if error.statement is not None else error.field
    return f"{where}: {error.message}"


def check_document(organization: Organization, source: str | dict[str, Any], *, name: str = "policy") -> dict[str, Any]:
    """The policy as a JSON object, once it parses and names only actions, operators and spaces the
    organization has; a :class:`DomainError` on ``document`` otherwise."""
    spaces = list(organization.spaces.values_list("name", flat=True))
    try:
        parse_policy(source, organization=organization.name, spaces=spaces, name=name)
    except PolicyError as error:
        raise DomainError("document", policy_error_message(error)) from None
    return json.loads(source) if isinstance(source, str | bytes) else source


def checked_policy(policy: IdentityPolicy) -> PolicyDocument:
    """A stored policy, typed for the engine. Stored policies were checked on save; one that no longer
    parses (the table of actions shrank) is skipped by the caller rather than stopping every decision."""
    return parse_policy(policy.document, organization=policy.organization.name, name=policy.name)


def check_name(organization: Organization, name: str, *, exclude: IdentityPolicy | None = None) -> None:
    if not re.fullmatch(POLICY_NAME_PATTERN, name):
        raise DomainError("name", "1 to 128 letters, digits and + = , . @ _ - only")
    taken = IdentityPolicy.objects.filter(organization=organization, name=name)
    if exclude is not None:
        taken = taken.exclude(pk=exclude.pk)
    if taken.exists():
        raise DomainError("name", f"The organization {organization.name} already has a policy named {name}.", "unique")


@transaction.atomic
def create_policy(
    organization: Organization,
    *,
    name: str,
    document: str | dict[str, Any],
    description: str = "",
    created_by: Any = None,
) -> IdentityPolicy:
    check_name(organization, name)
    body = check_document(organization, document, name=name)
    return IdentityPolicy.objects.create(
        organization=organization, name=name, description=description, document=body, created_by=created_by
    )


@transaction.atomic
def update_policy(
    policy: IdentityPolicy,
    *,
    name: str | None = None,
    document: str | dict[str, Any] | None = None,
    description: str | None = None,
) -> IdentityPolicy:
    """Change what is given; a new document counts up the policy's version."""
    if name is not None and name != policy.name:
        check_name(policy.organization, name, exclude=policy)
        policy.name = name
    if document is not None:
        body = check_document(policy.organization, document, name=policy.name)
        if body != policy.document:
            policy.document = body
            policy.version += 1
    if description is not None:
        policy.description = description
    policy.save()
    return policy


def delete_policy(policy: IdentityPolicy) -> None:
    policy.delete()


def organization_users(organization: Organization) -> Q:
    """Who belongs to an organization, as a filter on users: its owners, and whoever holds a role in
    it directly or through a group."""
    granted = Grant.objects.filter(organization=organization)
    return (
        Q(owned_organizations=organization)
        | Q(pk__in=granted.filter(user__isnull=False).values("user"))
        | Q(groups__in=granted.filter(group__isnull=False).values("group"))
    )


def organization_groups(organization: Organization) -> QuerySet[Group]:
    """The groups that hold a role in the organization: the only groups its policies may be attached to."""
    return Group.objects.filter(pk__in=Grant.objects.filter(organization=organization).values("group"))


def check_attachable(policy: IdentityPolicy, *, user: Any = None, group: Group | None = None) -> None:
    """A policy is attached to exactly one user or group of its own organization."""
    if (user is None) == (group is None):
        raise DomainError("user", "Name one user or one group.")
    organization = policy.organization
    if user is not None:
        belongs = type(user)._default_manager.filter(organization_users(organization), pk=user.pk).exists()
        if not belongs:
            raise DomainError("user", f"{user.email} does not belong to the organization {organization.name}.")
    elif not organization_groups(organization).filter(pk=group.pk).exists():  # type: ignore[union-attr]
        raise DomainError(
            "group",
            f"The group {group.name} holds no role in the organization {organization.name}.",  # type: ignore[union-attr]
        )


@transaction.atomic
def attach(
    policy: IdentityPolicy, *, user: Any = None, group: Group | None = None, attached_by: Any = None
) -> PolicyAttachment:
    check_attachable(policy, user=user, group=group)
    existing = PolicyAttachment.objects.filter(policy=policy, user=user, group=group).first()
    if existing is not None:
        return existing
    return PolicyAttachment.objects.create(policy=policy, user=user, group=group, attached_by=attached_by)


@transaction.atomic
def detach(policy: IdentityPolicy, *, user: Any = None, group: Group | None = None) -> None:
    if (user is None) == (group is None):
        raise DomainError("user", "Name one user or one group.")
    attachment = PolicyAttachment.objects.filter(policy=policy, user=user, group=group).first()
    if attachment is None:
        who = f"user {user.email}" if user is not None else f"group {group.name}"  # type: ignore[union-attr]
        raise DomainError(
            "user" if user is not None else "group", f"The policy {policy.name} is not attached to {who}."
        )
    attachment.delete()


def policies_of(user: Any) -> QuerySet[IdentityPolicy]:
    """Every policy that applies to a user: attached to them or to one of their groups."""
    return (
        IdentityPolicy.objects.filter(Q(attachments__user=user) | Q(attachments__group__in=user.groups.all()))
        .select_related("organization")
        .distinct()
    )
