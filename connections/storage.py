"""The connections app's front door: what other apps may ask of it (besides its models).

An organization's storage: which connection serves it, a client for it, where a space lives
in it, what signs requests sent to it on the connection's behalf, and the provider that vends
credentials for it (the vendor contract and the descriptor).
And the one address policy: every call Spaceport makes to an address a customer chose (a storage
endpoint, a webhook) passes it, so other apps take it from here rather than building their own.
Everything else in ``connections`` is its own business and may change without notice.
"""

from __future__ import annotations

from connections.active import active_connection, active_connection_id, with_active_connection
from connections.egress import AddressRefused, Destination, allowed, port_of, vet
from connections.egress_http import guarded_session
from connections.providers.base import (
    VALIDATION_PREFIX,
    Folder,
    Location,
    StorageClient,
    StorageError,
    StoredObject,
)
from connections.providers.descriptor import ProviderDescriptor
from connections.providers.registry import (
    client_for,
    descriptor_of,
    known_provider,
    location_for,
    per_user,
    request_signer_for,
    vendor_for,
)
from connections.providers.s3 import sigv4 as sigv4_steps
from connections.providers.signing import NotSignable, RequestSigner
from connections.providers.vending import Access, Credential, NotVendable, Scope, Target, Vendor

__all__ = [
    "VALIDATION_PREFIX",
    "Access",
    "AddressRefused",
    "Credential",
    "Destination",
    "Folder",
    "Location",
    "NotSignable",
    "NotVendable",
    "ProviderDescriptor",
    "RequestSigner",
    "Scope",
    "StorageClient",
    "StorageError",
    "StoredObject",
    "Target",
    "Vendor",
    "active_connection",
    "active_connection_id",
    "allowed",
    "client_for",
    "descriptor_of",
    "guarded_session",
    "known_provider",
    "location_for",
    "per_user",
    "port_of",
    "request_signer_for",
    "sigv4_steps",
    "vendor_for",
    "vet",
    "with_active_connection",
]
