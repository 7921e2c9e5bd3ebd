"""Creating and changing organizations and spaces, with the rules that keep them consistent."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from portal.errors import DomainError
from portal.models import LOADINGZONE, Confidentiality, Organization, Space, State


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
