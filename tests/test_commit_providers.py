"""A commit moves nested keys, unicode names, empty and multi-MiB objects on every emulated store.

Each store is a real server (rclone serve s3, moto, Azurite, gcp-storage-emulator); the objects are
written through the provider's own client and read back the same way, byte for byte.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import threading
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from commits import engine, listing
from commits.models import CommitItem, CommitState
from commits.starting import start_commit
from connections.methods import Method
from connections.models import CloudConnection
from connections.providers.base import Folder, StorageError, StoredObject
from connections.providers.registry import client_for, forget_clients, location_for
from portal.tenancy.changes import create_space
from portal.tenancy.models import LOADINGZONE, Organization, Space
from tests.emulators import LOOPBACK, Azurite, GcsEmulator, MotoServer, RcloneS3
from tests.test_commits import access_for_user, attach
from tests.test_provider_aws import connect as connect_aws
from tests.test_provider_azure import make_connection as make_azure
from tests.test_provider_gcp import GoogleStandIn, google, service_account_key  # noqa: F401
from tests.test_provider_gcp import make_connection as make_gcp
from tests.test_provider_s3compat import connect_new_bucket

MIB = 1024 * 1024


@pytest.fixture(autouse=True)
def fresh_clients() -> None:
    forget_clients()


def objects() -> dict[str, bytes]:
    return {
        "top.csv": b"t,v\n0,1\n",
        "a/b/c/d/deep.json": json.dumps({"deep": True}).encode(),
        "données/résumé 2024 ☃.txt": "unicode body ✓".encode(),
        "日本語/ファイル.txt": "こんにちは".encode(),
        "spaces and +plus&amp.txt": b"odd characters",
        "empty.bin": b"",
        "empty/dir/zero.dat": b"",
        "big/six.bin": secrets.token_bytes(6 * MIB),
        "big/eight.bin": secrets.token_bytes(8 * MIB + 17),
        "big/twelve.bin": secrets.token_bytes(12 * MIB),
    }


def rclone_connection(organization: Organization, request: pytest.FixtureRequest) -> CloudConnection:
    rclone: RcloneS3 = request.getfixturevalue("rclone_s3")
    return connect_new_bucket(organization, rclone, prefix="spaceport")


def moto_connection(organization: Organization, request: pytest.FixtureRequest) -> CloudConnection:
    moto: MotoServer = request.getfixturevalue("moto_server")
    bucket = f"commits-{secrets.token_hex(4)}"
    moto.client("s3").create_bucket(Bucket=bucket)
    values = {
        "access_key_id": moto.admin.access_key_id,
        "secret_access_key": moto.admin.secret_access_key,
        "bucket": bucket,
        "region": "us-east-1",
        "endpoint_url": moto.endpoint_url,
        "prefix": "spaceport",
    }
    return connect_aws(organization, Method.AWS_ACCESS_KEYS, values)


def azurite_connection(organization: Organization, request: pytest.FixtureRequest) -> CloudConnection:
    azurite: Azurite = request.getfixturevalue("azurite")
    return make_azure(organization, Method.AZURE_CONNECTION_STRING, {"connection_string": azurite.connection_string})


def gcs_connection(organization: Organization, request: pytest.FixtureRequest) -> CloudConnection:
    emulator: GcsEmulator = request.getfixturevalue("gcs_emulator")
    stand_in: GoogleStandIn = request.getfixturevalue("google")
    # The token stand-in lives on loopback; production accepts only *.googleapis.com.
    request.getfixturevalue("settings").SPACEPORT_GCP_EXTRA_TOKEN_HOSTS = [LOOPBACK]
    bucket = f"commits-{uuid.uuid4().hex[:10]}"
    emulator.client().create_bucket(bucket)
    values = {
        "key_json": json.dumps(service_account_key(stand_in)),
        "bucket": bucket,
        "prefix": "spaceport",
        "api_endpoint": emulator.endpoint_url,
    }
    return make_gcp(organization, Method.GCP_SERVICE_ACCOUNT_KEY, values)


def ensure_azure_containers(connection: CloudConnection, *names: str) -> None:
    from azure.storage.blob import BlobServiceClient

    service = BlobServiceClient.from_connection_string(dict(connection.secret or {})["connection_string"])
    for name in names:
        container = service.get_container_client(name)
        if not container.exists():
            container.create_container()


STORES: dict[str, Callable[[Organization, pytest.FixtureRequest], CloudConnection]] = {
    "rclone": rclone_connection,
    "moto": moto_connection,
    "azurite": azurite_connection,
    "gcs": gcs_connection,
}


@pytest.mark.parametrize("store", list(STORES))
def test_a_commit_moves_every_kind_of_object(
    store: str, request: pytest.FixtureRequest, organization: Organization, member: Any, space: Space
) -> None:
    # A space of its own: Azurite is shared by the whole run, and its containers are named by space.
    target = create_space(organization, name=f"cmt-{uuid.uuid4().hex[:10]}")
    from portal.tenancy.grants import Grant, Role, Scope

    Grant.objects.create(user=member, scope=Scope.SPACE, role=Role.SUPPLIER, organization=organization, space=target)
    connection = STORES[store](organization, request)
    if store == "azurite":
        ensure_azure_containers(connection, LOADINGZONE, target.name)
    attach(organization, connection)
    target.refresh_from_db()
    client = client_for(connection)
    loadingzone = location_for(connection, LOADINGZONE)
    destination = location_for(connection, target.name)
    root = f"upload-{uuid.uuid4().hex[:8]}"
    payloads = objects()
    for key, data in payloads.items():
        client.put_object(loadingzone, f"{root}/{key}", data)
    client.put_object(loadingzone, f"{root}-sibling/keep.txt", b"not part of it")

    commit = start_commit(access_for_user(member), target, root_dir=root, user=member)
    assert engine.run(commit.pk) == "finished"

    commit.refresh_from_db()
    assert commit.state == CommitState.SUCCEEDED, (commit.error, list(CommitItem.objects.values("key", "error")))
    assert (commit.total, commit.moved, commit.failed, commit.conflicts) == (len(payloads), len(payloads), 0, 0)
    assert commit.bytes_moved == sum(len(data) for data in payloads.values())
    moved = {item.key[len(destination.key(root + "/")) :] for item in client.list_objects(destination, root + "/")}
    assert moved == set(payloads)
    for key, data in payloads.items():
        copy = client.get_object(destination, f"{root}/{key}")
        assert hashlib.sha256(copy).digest() == hashlib.sha256(data).digest(), key
    assert list(client.list_objects(loadingzone, root + "/")) == []
    assert client.get_object(loadingzone, f"{root}-sibling/keep.txt") == b"not part of it"


@pytest.mark.parametrize("store", list(STORES))
def test_a_root_is_listed_a_level_deep_then_folder_by_folder_each_object_once(
    store: str, request: pytest.FixtureRequest, organization: Organization, monkeypatch: pytest.MonkeyPatch
) -> None:
    connection = STORES[store](organization, request)
    if store == "azurite":
        ensure_azure_containers(connection, LOADINGZONE)
    client = client_for(connection)
    loadingzone = location_for(connection, LOADINGZONE)
    root = f"listing-{uuid.uuid4().hex[:8]}"
    keys = [*objects(), *(f"many/{n:04d}.txt" for n in range(25))]
    for key in keys:
        client.put_object(loadingzone, f"{root}/{key}", b"x")
    client.put_object(loadingzone, f"{root}-sibling/keep.txt", b"not part of it")
    start = len(loadingzone.key(root + "/"))

    level = list(client.list_level(loadingzone, root + "/"))
    assert sorted(e.key[start:] for e in level if isinstance(e, Folder)) == sorted(
        ["a/", "big/", "données/", "empty/", "many/", "日本語/"]
    )
    assert sorted(e.key[start:] for e in level if isinstance(e, StoredObject)) == sorted(
        ["top.csv", "spaces and +plus&amp.txt", "empty.bin"]
    )

    def listed_keys() -> list[str]:
        return [stored.key[start:] for stored in listing.listed(client, loadingzone, root + "/", page=10)]

    side_by_side = listed_keys()
    assert sorted(side_by_side) == sorted(keys), "every object once, folders listed in lanes, pages of 10"
    monkeypatch.setattr(listing, "MAX_FOLDERS", 2)
    flat = listed_keys()
    assert sorted(flat) == sorted(keys), "too many folders: the rest of the root is listed flat"


def test_a_folder_that_cannot_be_listed_fails_the_listing_and_stops_its_lanes(
    request: pytest.FixtureRequest, organization: Organization, monkeypatch: pytest.MonkeyPatch
) -> None:
    connection = rclone_connection(organization, request)
    client = client_for(connection)
    loadingzone = location_for(connection, LOADINGZONE)
    for folder in ("a", "b", "c", "d", "e", "f"):
        for n in range(30):
            client.put_object(loadingzone, f"root/{folder}/{n}.txt", b"x")
    real = client.list_objects

    def refusing(location: Any, prefix: str = "", limit: int | None = None) -> Any:
        if prefix == "root/d/":  # a store refusing one folder (fault injected into the real client)
            raise StorageError("access_denied", "Listing root/d/ was refused.")
        return real(location, prefix, limit)

    monkeypatch.setattr(client, "list_objects", refusing)
    threads = threading.active_count()
    with pytest.raises(StorageError, match="root/d/"):
        list(listing.listed(client, loadingzone, "root/", page=5))
    assert threading.active_count() == threads, "no lane is left listing"
