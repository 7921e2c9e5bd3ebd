"""Which connection serves an organization: the one flagged ``active``, at most one per organization.

Readers everywhere ask :func:`active_connection`; lists of spaces that will need it load it with
:func:`with_active_connection`, so a page or a credential request reads it without a query per
space, and a cached snapshot of a space carries it along.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import Prefetch, QuerySet

from connections.models import CloudConnection
from portal.tenancy.models import Organization, Space

LOADED = "active_connections"


def active_connection(organization: Organization) -> CloudConnection | None:
    """The connection the organization's spaces live in, whatever its status."""
    loaded: list[CloudConnection] | None = getattr(organization, LOADED, None)
    if loaded is not None:
        return loaded[0] if loaded else None
    return CloudConnection.objects.filter(organization_id=organization.pk, active=True).first()


def active_connection_id(organization: Organization) -> int | None:
    """The active connection's primary key, without loading the connection where that can be avoided."""
    loaded: list[CloudConnection] | None = getattr(organization, LOADED, None)
    if loaded is not None:
        return loaded[0].pk if loaded else None
    return (
        CloudConnection.objects.filter(organization_id=organization.pk, active=True)
        .values_list("pk", flat=True)
        .first()
    )


def with_active_connection(spaces: QuerySet[Space], *, secrets: bool = True) -> QuerySet[Space]:
    """``spaces`` with their organization and its active connection loaded along (one query more per list).

    ``secrets=False`` leaves the encrypted material and the validation report unread, for callers
    that only decide by the connection's status and provider and keep what they read in a cache.
    """
    connections = CloudConnection.objects.filter(active=True)
    if not secrets:
        connections = connections.defer("secret", "validation_report")
    return spaces.select_related("organization").prefetch_related(
        Prefetch("organization__connections", queryset=connections, to_attr=LOADED)
    )


def serve_if_unserved(connection: CloudConnection) -> None:
    """Make ``connection`` its organization's active one, unless the organization already has one.

    The partial unique constraint decides a race between two first connections: the loser stays
    inactive, as an organization's second connection always has.
    """
    if CloudConnection.objects.filter(organization_id=connection.organization_id, active=True).exists():
        return
    try:
        with transaction.atomic():
            CloudConnection.objects.filter(pk=connection.pk).update(active=True)
    except IntegrityError:
        return
    connection.active = True


def make_active(connection: CloudConnection) -> None:
    """Serve the organization's spaces from ``connection`` from now on, in place of any other."""
    with transaction.atomic():
        CloudConnection.objects.filter(organization_id=connection.organization_id, active=True).exclude(
            pk=connection.pk
        ).update(active=False)
        CloudConnection.objects.filter(pk=connection.pk).update(active=True)
    connection.active = True
