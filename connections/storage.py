"""The connections app's front door: what other apps may ask of it (besides its models).

An organization's storage: which connection serves it, a client for it, and where a space lives
in it. And the one address policy: every call Spaceport makes to an address a customer chose
(a storage endpoint, a webhook) passes it, so other apps take it from here rather than building
their own. Everything else in ``connections`` is its own business and may change without notice.
"""

from __future__ import annotations

from connections.active import active_connection, active_connection_id, with_active_connection
from connections.egress import AddressRefused, Destination, allowed, vet
from connections.egress_http import guarded_session
from connections.providers.base import (
    VALIDATION_PREFIX,
    Location,
    StorageClient,
    StorageError,
    StoredObject,
    location_for,
)
from connections.providers.registry import client_for

__all__ = [
    "VALIDATION_PREFIX",
    "AddressRefused",
    "Destination",
    "Location",
    "StorageClient",
    "StorageError",
    "StoredObject",
    "active_connection",
    "active_connection_id",
    "allowed",
    "client_for",
    "guarded_session",
    "location_for",
    "vet",
    "with_active_connection",
]
