"""The example cloud's storage: a dict per process, and a record of what was asked of it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from connections.providers.base import Location, StorageClient, StorageError, StoredObject

if TYPE_CHECKING:
    from connections.models import CloudConnection

OBJECTS: dict[tuple[str, str], bytes] = {}
CALLS: list[str] = []


class ExampleClient(StorageClient):
    def authenticate(self) -> str:
        CALLS.append("authenticate")
        return f"example token for {self.config['bucket']}"

    def list_objects(self, location: Location, prefix: str = "", limit: int | None = None) -> Iterator[StoredObject]:
        CALLS.append("list")
        start = location.key(prefix)
        found = [(key, data) for (bucket, key), data in OBJECTS.items() if bucket == location.bucket]
        for key, data in sorted(found)[:limit]:
            if key.startswith(start):
                yield StoredObject(key, len(data))

    def put_object(self, location: Location, key: str, data: bytes) -> StoredObject:
        CALLS.append("put")
        OBJECTS[(location.bucket, location.key(key))] = data
        return StoredObject(location.key(key), len(data))

    def get_object(self, location: Location, key: str) -> bytes:
        CALLS.append("get")
        try:
            return OBJECTS[(location.bucket, location.key(key))]
        except KeyError:
            raise StorageError("not_found", f"No object {key}.", "") from None

    def delete_object(self, location: Location, key: str) -> None:
        CALLS.append("delete")
        OBJECTS.pop((location.bucket, location.key(key)), None)

    def explain(self, exc: Exception) -> StorageError:
        return StorageError("example", type(exc).__name__, "")


def build_client(connection: CloudConnection) -> ExampleClient:
    return ExampleClient(connection)
