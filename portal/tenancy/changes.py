"""Creating and changing organizations and spaces, with the rules that keep them consistent."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from portal.core.errors import DomainError
from portal.tenancy.models import LOADINGZONE, Confidentiality, Organization, Space, State


def create_organization(*, name: str, owner: Any = None, **fields: Any) -> Organization:
    """Create an organization together with its loadingzone, or neither."""
    with transaction.atomic():
        organization = Organization(name=name, **fields)
        organization.full_clean()
        organization.save()
        if owner is not None:
            organization.owners.add(owner)
        Space.objects.create(
            organization=organization,
            name=LOADINGZONE,
            display_name="Loadingzone",
            description="Uploads land here until the uploader commits them into a space.",
            confidentiality=Confidentiality.PRIVATE,
        )
    return organization


def create_space(organization: Organization, *, name: str, **fields: Any) -> Space:
    if organization.state == State.DELETION:
        raise DomainError("organization", "The organization is marked for deletion; no spaces can be added.")
    space = Space(organization=organization, name=name, **fields)
    space.full_clean()
    space.save()
    return space


def mark_space_for_deletion(space: Space) -> Space:
    """Spaces are not dropped at once: they become invisible and their data can still be recovered."""
    if space.is_loadingzone:
        raise DomainError("space", "The loadingzone belongs to the organization and cannot be deleted.")
    space.state = State.DELETION
    space.save(update_fields=["state", "modified"])
    return space


def mark_organization_for_deletion(organization: Organization) -> Organization:
    organization.state = State.DELETION
    organization.save(update_fields=["state", "modified"])
    return organization


def _update(instance: Organization | Space, fields: dict[str, Any]) -> None:
    if instance.state == State.DELETION:
        raise DomainError("state", "This is marked for deletion and can no longer be changed.")
    if "name" in fields:
        raise DomainError("name", "The name cannot be changed: roles and storage paths refer to it.")
    if fields.get("state") == State.DELETION:
        raise DomainError("state", "Use mark for deletion to delete; it cannot be set as a plain change.")
    for field_name, value in fields.items():
        setattr(instance, field_name, value)
    instance.full_clean()
    instance.save(update_fields=[*fields, "modified"])


def update_organization(organization: Organization, **fields: Any) -> Organization:
    """Change an organization's descriptive fields, keeping its name and leaving deletion to its own step."""
    _update(organization, fields)
    return organization


def update_space(space: Space, **fields: Any) -> Space:
    """Change a space's descriptive fields, keeping its name and leaving deletion to its own step."""
    _update(space, fields)
    return space
