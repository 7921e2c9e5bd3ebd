"""Drafts of the onboarding wizard: a connection row exists from the moment its method is chosen.

The row is what gives a cross-account role its ExternalId, so the customer can create the role
before typing anything; going back and choosing the same method again reuses the untouched draft
instead of leaving a trail of them.
"""

from __future__ import annotations

from typing import Any

from connections.lifecycle import create_connection
from connections.models import CloudConnection, Status
from connections.providers.registry import descriptor_of, spec_for
from connections.providers.spec import ConnectionInputError
from portal.tenancy.models import Organization

NAME_ATTEMPTS = 50


def start_draft(organization: Organization, method: str, *, created_by: Any) -> CloudConnection:
    """The person's untouched draft of this method, or a new one under a free default name."""
    spec = spec_for(method)
    untouched = (
        organization.connections.filter(
            status=Status.DRAFT, method=method, created_by=created_by, config={}, secret__isnull=True
        )
        .order_by("created")
        .first()
    )
    if untouched is not None:
        return untouched
    base = descriptor_of(spec.provider).draft_name
    taken = set(organization.connections.filter(name__startswith=base).values_list("name", flat=True))
    candidates = (base if n == 1 else f"{base}-{n}" for n in range(1, NAME_ATTEMPTS + 1))
    for name in candidates:
        if name in taken:
            continue
        try:
            return create_connection(
                organization, name=name, method=method, values={}, created_by=created_by, draft=True
            )
        except ConnectionInputError as exc:
            if "name" not in exc.errors:
                raise
            taken.add(name)
    raise ConnectionInputError({"name": "Too many connections share the default name; rename a few."})


def discard_draft(connection: CloudConnection) -> None:
    """Only a draft can go: a connection that was ever in use is disabled instead, keeping its history."""
    if connection.status != Status.DRAFT:
        raise ConnectionInputError({"status": "Only drafts can be discarded; disable the connection instead."})
    connection.delete()
