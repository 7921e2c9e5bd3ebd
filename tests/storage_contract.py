"""What every provider's StorageClient must do with objects, checked the same way for each."""

from __future__ import annotations

import pytest

from connections.providers.base import Location, StorageClient, StorageError

PAYLOADS = {
    "a/b/c/deep.csv": b"x,y\n1,2\n",
    "a/top.txt": b"top",
    "données/résumé 2024 ☃.txt": "unicode body ✓".encode(),
    "empty.bin": b"",
}


def assert_round_trip(client: StorageClient, location: Location) -> None:
    """Put, get, list (by prefix and limited), overwrite and delete, with nested, unicode and empty objects.

    Keys come back as the store names them: with the location's prefix (empty for a container).
    """
    for key, body in PAYLOADS.items():
        stored = client.put_object(location, key, body)
        assert stored.key == location.key(key)
        assert stored.size == len(body)
        assert stored.etag
    for key, body in PAYLOADS.items():
        assert client.get_object(location, key) == body

    listed = {item.key: item.size for item in client.list_objects(location)}
    assert listed == {location.key(key): len(body) for key, body in PAYLOADS.items()}
    assert {item.key for item in client.list_objects(location, "a/")} == {
        location.key("a/b/c/deep.csv"),
        location.key("a/top.txt"),
    }
    assert len(list(client.list_objects(location, limit=3))) == 3

    client.put_object(location, "a/top.txt", b"overwritten")
    assert client.get_object(location, "a/top.txt") == b"overwritten"

    for key in PAYLOADS:
        client.delete_object(location, key)
    client.delete_object(location, "empty.bin")
    assert list(client.list_objects(location)) == []
    with pytest.raises(StorageError) as excinfo:
        client.get_object(location, "a/top.txt")
    assert excinfo.value.code == "not_found"
