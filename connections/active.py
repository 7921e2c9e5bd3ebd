"""Which connection serves an organization: its active one, if it has one.

Readers everywhere ask :func:`active_connection`; lists of spaces that will need it load it with
:func:`with_active_connection`, so a page or a credential request reads it without a query per
space (and a cached snapshot of a space carries it along).
"""

from __future__ import annotations

from django.db.models import QuerySet

from connections.models import CloudConnection
from portal.tenancy.models import Organization, Space


def active_connection(organization: Organization) -> CloudConnection | None:
    """The connection the organization's spaces live in, whatever its status."""
    return organization.connection


def active_connection_id(organization: Organization) -> int | None:
    """The active connection's primary key, without loading the connection where that can be avoided."""
    return organization.connection_id


def with_active_connection(spaces: QuerySet[Space], *, secrets: bool = True) -> QuerySet[Space]:
    """``spaces`` with their organization and its active connection loaded along.

    ``secrets=False`` leaves the encrypted material and the validation report unread, for callers
    that only decide by the connection's status and provider and keep what they read in a cache.
    """
    loaded = spaces.select_related("organization", "organization__connection")
    if not secrets:
        loaded = loaded.defer("organization__connection__secret", "organization__connection__validation_report")
    return loaded
