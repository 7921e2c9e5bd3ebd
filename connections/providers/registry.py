"""Finding the provider module for a connection, and reusing clients so cached credentials live on."""

from __future__ import annotations

import importlib
import threading
from typing import TYPE_CHECKING

from connections.methods import Provider
from connections.providers.base import StorageClient

if TYPE_CHECKING:
    from connections.models import CloudConnection

MODULES = {
    Provider.AWS: "connections.providers.aws",
    Provider.AZURE: "connections.providers.azure",
    Provider.GCP: "connections.providers.gcp",
    Provider.IBM: "connections.providers.ibm",
    Provider.S3COMPAT: "connections.providers.s3compat",
}

_clients: dict[tuple[int, str], StorageClient] = {}
_lock = threading.Lock()


def client_for(connection: CloudConnection) -> StorageClient:
    """A client for ``connection``, shared within the process until the connection changes.

    Keyed by the connection's modification time, so new settings or secrets take effect at once,
    while temporary credentials (assumed roles, tokens) are reused until they near expiry.
    """
    key = (connection.pk or 0, connection.modified.isoformat() if connection.modified else "")
    with _lock:
        client = _clients.get(key)
        if client is None:
            module = importlib.import_module(MODULES[Provider(connection.provider)])
            client = module.build_client(connection)
            for stale in [k for k in _clients if k[0] == key[0]]:
                del _clients[stale]
            if connection.pk:
                _clients[key] = client
    return client


def forget_clients() -> None:
    with _lock:
        _clients.clear()
