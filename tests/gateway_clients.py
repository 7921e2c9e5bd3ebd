"""What the real-client tests share: the stores behind the gateway, the data, and a checklist.

A store is a bucket at ``rclone serve s3`` or moto (both check SigV4) that a space's connection
points at, seeded once per module with more than a thousand keys under ``many/`` so listings
must page. The checklist runs every operation of a client even after one fails, so a failing
test names every operation that does not work with that client, not only the first.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from connections.models import CloudConnection

# The operations every client is asked to do (or to say why it cannot).
OPERATIONS = (
    "list buckets", "put", "get", "get range", "head", "copy", "multipart", "list with delimiter",
    "list pages", "delete", "delete many", "presigned get", "presigned put",
)  # fmt: skip

# many/0000 ... many/1000 and two keys below many/sub/: 1,003 keys, 1,001 of them directly under many/.
SEEDED = [f"many/{number:04d}.txt" for number in range(1001)] + ["many/sub/a.txt", "many/sub/b.txt"]
BIG_SIZE = 64 * 1024 * 1024 + 4321  # a partial last part
SMALL = b"time,value\n0,1\n1,2\n2,3\n"


@dataclass
class Store:
    """A bucket at an S3 store, reached directly (not through the gateway) to seed and check it.

    ``connect`` makes an organization's connection to it; spaces live under ``<space>/``.
    """

    name: str
    bucket: str
    direct: Any
    connect: Callable[[Any], CloudConnection]

    def read(self, space: str, key: str) -> bytes | None:
        try:
            answer = self.direct.get_object(Bucket=self.bucket, Key=f"{space}/{key}")
        except ClientError as error:
            if error.response["Error"]["Code"] in ("NoSuchKey", "404"):
                return None
            raise
        return bytes(answer["Body"].read())

    def write(self, space: str, key: str, data: bytes) -> None:
        """Put an object straight into the store, so a step does not depend on the client's own put."""
        self.direct.put_object(Bucket=self.bucket, Key=f"{space}/{key}", Body=data)

    def digest(self, space: str, key: str) -> tuple[int, str] | None:
        found = self.read(space, key)
        return None if found is None else (len(found), hashlib.sha256(found).hexdigest())

    def keys(self, space: str, prefix: str) -> list[str]:
        names: list[str] = []
        for page in self.direct.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=f"{space}/{prefix}"
        ):
            names += [item["Key"][len(space) + 1 :] for item in page.get("Contents", [])]
        return names

    def clear(self, space: str, prefix: str) -> None:
        for key in self.keys(space, prefix):
            self.direct.delete_object(Bucket=self.bucket, Key=f"{space}/{key}")

    def seed(self) -> None:
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda key: self.direct.put_object(Bucket=self.bucket, Key=f"raw/{key}", Body=b"s"), SEEDED))
        self.direct.put_object(Bucket=self.bucket, Key="ref/readme.txt", Body=b"read only")


def new_bucket(direct: Any) -> str:
    name = f"gw-clients-{secrets.token_hex(4)}"
    direct.create_bucket(Bucket=name)
    return name


@dataclass(frozen=True)
class BigFile:
    path: Path
    size: int
    sha256: str


def big_file(directory: Path) -> BigFile:
    """Written once per module: 64 MiB and a bit, random so no store can shortcut it."""
    path = directory / "big.bin"
    digest = hashlib.sha256()
    with path.open("wb") as out:
        remaining = BIG_SIZE
        while remaining:
            piece = secrets.token_bytes(min(remaining, 4 * 1024 * 1024))
            digest.update(piece)
            out.write(piece)
            remaining -= len(piece)
    return BigFile(path, BIG_SIZE, digest.hexdigest())


@dataclass
class Checklist:
    """Runs each operation of one client, recording what failed and why, then fails once naming all."""

    client: str
    cannot: dict[str, str] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    done: list[str] = field(default_factory=list)

    def __call__(self, operation: str) -> Callable[[Callable[[], None]], None]:
        assert operation in OPERATIONS, operation

        def run(step: Callable[[], None]) -> None:
            self.done.append(operation)
            try:
                step()
            except Exception as exc:
                self.failed[operation] = f"{type(exc).__name__}: {exc}".replace("\n", " ")[:400]

        return run

    def verify(self) -> None:
        untried = [op for op in OPERATIONS if op not in self.done and op not in self.cannot]
        assert not untried, f"{self.client} never tried: {untried}"
        report = "\n".join(f"  {op}: {why}" for op, why in self.failed.items())
        assert not self.failed, f"{self.client} failed {len(self.failed)} of {len(self.done)} operations:\n{report}"


def listed_under_many(keys: list[str], prefixes: list[str]) -> None:
    """A delimited listing of ``many/``: every direct key once, and ``many/sub/`` as a prefix."""
    direct = [key for key in SEEDED if key.count("/") == 1]
    assert sorted(keys) == direct, f"{len(keys)} keys, {len(set(keys))} distinct"
    assert prefixes == ["many/sub/"]


def listed_everything(keys: list[str]) -> None:
    assert sorted(keys) == sorted(SEEDED), f"{len(keys)} keys, {len(set(keys))} distinct"
