"""One storage location belongs to at most one organization.

Defence in depth behind per-organization identities: even if two organizations could both reach a
bucket, Spaceport will not let both use it, so one organization's spaces can never be another's.
A territory is where a connection's spaces live: the storage account for Azure (each space is a
container in it), the endpoint's store and the bucket with the connection's path for S3-like
stores, the bucket with its path for GCS. Two territories overlap when they are in the same
bucket and one path is a prefix of the other (equal included).

Connections in use hold their territory; drafts do not until they are submitted, and disabled
connections release it. Connections of the same organization may share a territory: they are the
same data owner, for instance while moving from one method to another.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import connection as database

from connections.providers.registry import descriptor_of
from connections.providers.spec import ConnectionInputError
from connections.providers.territories import Territory

if TYPE_CHECKING:
    from connections.models import CloudConnection

# Serializes claims: checking and saving happen under one transaction-scoped advisory lock.
CLAIM_LOCK = 0x5350_7465_7272  # "SPterr"


def territory_of(connection: CloudConnection) -> Territory | None:
    rule = descriptor_of(connection.provider).territory
    return rule.of(connection.method, connection.config or {}, connection.secret or {})


def claim(connection: CloudConnection) -> None:
    """Refuse ``connection`` if another organization's connection in use holds an overlapping territory.

    Call inside the transaction that saves the connection: on PostgreSQL a transaction-scoped
    advisory lock makes two organizations claiming the same bucket at once take turns. The refusal
    names the field and never the other organization.
    """
    from connections.models import CloudConnection, Status

    mine = territory_of(connection)
    if mine is None:
        return
    if database.vendor == "postgresql":
        with database.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CLAIM_LOCK])
    others = (
        CloudConnection.objects.filter(provider=connection.provider)
        .exclude(organization_id=connection.organization_id)
        .exclude(status__in=[Status.DRAFT, Status.DISABLED])
    )
    for other in others.iterator():
        theirs = territory_of(other)
        if theirs is not None and mine.overlaps(theirs):
            rule = descriptor_of(connection.provider).territory
            raise ConnectionInputError({rule.field(connection.method, mine, theirs): rule.refusal})
