"""Connections recorded as valid without validating them, for tests about what happens once an
organization has storage (vending rules, metrics, waiting pages) rather than about reaching it."""

from __future__ import annotations

from typing import Any

from connections import lifecycle
from connections.models import CloudConnection, Status
from portal.tenancy.models import Organization

UNREACHABLE_S3 = {
    "endpoint": "http://127.0.0.1:9",
    "bucket": "acme-data",
    "access_key_id": "SPACEPORTKEY",
    "secret_access_key": "not-used-here",
}
"""An S3-compatible store on the discard port: nothing listens, so nothing is ever read from it."""


def valid_connection(
    organization: Organization,
    method: str = "s3_static_keys",
    values: dict[str, Any] | None = None,
    *,
    name: str = "store",
) -> CloudConnection:
    """``organization``'s connection by ``method``, marked valid as a finished validation would mark it."""
    connection = lifecycle.create_connection(
        organization, name=name, method=method, values=UNREACHABLE_S3 if values is None else values, validate=False
    )
    CloudConnection.objects.filter(pk=connection.pk).update(status=Status.VALID)
    connection.refresh_from_db()
    organization.refresh_from_db()
    return connection
