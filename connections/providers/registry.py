"""The clouds Spaceport speaks, as one dict of descriptors, and the lookups everyone else uses.

Adding a cloud is adding its package and one line to :data:`PROVIDERS`. Clients are reused
within the process, so temporary credentials (assumed roles, tokens) live until they near expiry.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from connections.providers.aws.descriptor import AWS
from connections.providers.azure.descriptor import AZURE
from connections.providers.base import VALIDATION_PREFIX, Location, StorageClient
from connections.providers.descriptor import ProviderDescriptor
from connections.providers.gcp.descriptor import GCP
from connections.providers.ibm.descriptor import IBM
from connections.providers.rotating import KeyRotation
from connections.providers.s3compat.descriptor import S3COMPAT
from connections.providers.signing import RequestSigner
from connections.providers.spec import ConnectionInputError, MethodSpec
from connections.providers.vending import Vendor
from portal.core.cache import ProcessMemory
from portal.tenancy.models import LOADINGZONE

if TYPE_CHECKING:
    from connections.models import CloudConnection

PROVIDERS: dict[str, ProviderDescriptor] = {
    descriptor.key: descriptor for descriptor in (AWS, AZURE, GCP, IBM, S3COMPAT)
}


class UnknownProvider(LookupError):
    """A connection names a provider this Spaceport does not have."""


def descriptor_of(provider: str) -> ProviderDescriptor:
    try:
        return PROVIDERS[provider]
    except KeyError:
        raise UnknownProvider(provider) from None


def known_provider(provider: str) -> ProviderDescriptor | None:
    """The descriptor, or None for a name no registered provider has (a credential cached before a removal)."""
    return PROVIDERS.get(provider)


def all_specs() -> dict[str, MethodSpec]:
    """Every method of every provider, by method name, in the registry's order."""
    return {spec.method: spec for descriptor in PROVIDERS.values() for spec in descriptor.methods}


def spec_for(method: str) -> MethodSpec:
    specs = all_specs()
    try:
        return specs[method]
    except KeyError:
        raise ConnectionInputError({"method": f"Choose one of: {', '.join(specs)}."}) from None


def methods_of(provider: str) -> list[MethodSpec]:
    descriptor = PROVIDERS.get(provider)
    return list(descriptor.methods) if descriptor is not None else []


def provider_choices() -> list[tuple[str, str]]:
    return [(descriptor.key, descriptor.label) for descriptor in PROVIDERS.values()]


def method_choices() -> list[tuple[str, str]]:
    return [(spec.method, spec.label) for spec in all_specs().values()]


# By connection: the modification time it was built at, and the client.
_clients: ProcessMemory[int, tuple[str, StorageClient]] = ProcessMemory(
    "storage clients",
    entries=256,
    secrets="a client holds its connection's secret, or the temporary credentials it was given "
    "(an assumed role, a token), and reuses them until they near expiry: asking for new ones on every "
    "operation would add a round trip to each and count against the provider's limits",
)
_lock = threading.Lock()


def client_for(connection: CloudConnection) -> StorageClient:
    """A client for ``connection``, shared within the process until the connection changes.

    Keyed by the connection's modification time, so new settings or secrets take effect at once,
    while temporary credentials (assumed roles, tokens) are reused until they near expiry.
    """
    version = connection.modified.isoformat() if connection.modified else ""
    with _lock:
        held = _clients.get(connection.pk) if connection.pk else None
        if held is not None and held[0] == version:
            return held[1]
        client = descriptor_of(connection.provider).build_client(connection)
        if connection.pk:
            _clients.put(connection.pk, (version, client))
    return client


def request_signer_for(connection: CloudConnection) -> RequestSigner:
    """What signs S3 requests to ``connection``'s store with its credentials.

    The signer belongs to the connection's shared client, so it is one per connection and
    changes with the connection (new keys, a new role), and temporary credentials are refreshed
    by the client that holds them. Raises :class:`~connections.providers.signing.NotSignable`
    for stores that do not speak S3.
    """
    return client_for(connection).request_signer()


def forget_clients() -> None:
    _clients.clear()


def per_user(connection: CloudConnection) -> bool:
    """Whether the provider's credentials carry the person's identity; known without building a vendor,
    so a cached credential is found without touching the connection's secret."""
    return descriptor_of(connection.provider).per_user


def vendor_for(connection: CloudConnection) -> Vendor:
    """The vendor for ``connection``, built around the connection's shared client."""
    return descriptor_of(connection.provider).build_vendor(connection, client_for)


def location_for(connection: CloudConnection, space_name: str) -> Location:
    """Where a space's objects live, as the connection's provider lays spaces out."""
    return descriptor_of(connection.provider).location(connection, space_name)


def validation_location(connection: CloudConnection) -> Location:
    """Validation writes into the loadingzone, under a reserved prefix no upload uses."""
    location = location_for(connection, LOADINGZONE)
    return Location(bucket=location.bucket, prefix=location.prefix + VALIDATION_PREFIX)


def key_rotation_for(connection: CloudConnection) -> KeyRotation | None:
    """How the connection's key is rotated, or None where its method holds no key Spaceport can replace."""
    descriptor = known_provider(connection.provider)
    rotation = descriptor.key_rotation if descriptor is not None else None
    return rotation if rotation is not None and connection.method in rotation.methods else None


def rotatable_methods() -> set[str]:
    """Every method whose key the workers can rotate."""
    rotations = [descriptor.key_rotation for descriptor in PROVIDERS.values() if descriptor.key_rotation]
    return {method for rotation in rotations for method in rotation.methods}
