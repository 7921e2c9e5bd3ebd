"""A live gateway in front of ``rclone serve s3`` with the keys a hostile caller could hold, and a
client that sends a request byte for byte as written, for the end-to-end refusal tests.

Clients "fix" requests (they normalise ``..`` out of paths, add the body before the server asked
for it, recompute lengths), so the requests here go out on a plain socket: what the test wrote is
what the gateway reads.
"""

from __future__ import annotations

import contextlib
import socket
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from xml.etree import ElementTree

import boto3
import pytest
from botocore.config import Config
from django.utils import timezone

from accessgrants.accesskeys import deactivate_key, issue_key, rotate_key
from accessgrants.models import AccessKey
from connections.active import make_active
from connections.storage import location_for
from gateway.checksums import encoded, new_checksum
from portal.tenancy.changes import create_organization, create_space
from portal.tenancy.grants import Grant, Role, Scope
from tests.conftest import make_user
from tests.emulators import RcloneS3
from tests.gateway_signing import Raw, chunk_signature, presigned, signed, signing_key, trailer_signature
from tests.test_provider_s3compat import connect_new_bucket

# Objects in the stores before any hostile request, by upstream key under each organization's bucket.
ACME_OBJECTS = {
    "raw/in/existing.csv": b"a,b\n1,2\n",
    "raw/in/run-1.csv": b"run,1\n",
    "ref/ref.txt": b"reference data\n",
    "vault/secret.txt": b"only the vault's readers may see this\n",
}
GLOBEX_OBJECTS = {"raw/theirs.txt": b"globex's own data\n"}


@dataclass(frozen=True)
class SigningKey:
    access_key_id: str
    secret: str = field(repr=False)


@dataclass
class GatewayWorld:
    """acme (``member`` supplies ``raw``, reads ``ref``, may not read ``vault``) and globex (whose
    ``raw`` member supplies too), each with its own bucket in one rclone store, and a live gateway
    in front of them.

    ``keys``: ``member`` (usable), ``globex`` (member's key in globex), ``stranger`` (acme, no space
    grant), and keys that may not sign although their secrets are right: ``deactivated``,
    ``expired``, ``rotated`` (past its grace), ``owner-inactive``.
    """

    url: str
    store: RcloneS3
    acme_bucket: str
    globex_bucket: str
    keys: dict[str, SigningKey]

    @property
    def host(self) -> str:
        return urlsplit(self.url).netloc

    @property
    def address(self) -> tuple[str, int]:
        parts = urlsplit(self.url)
        return str(parts.hostname), int(parts.port or 80)

    def sign(
        self,
        method: str,
        path: str,
        query: str = "",
        body: bytes = b"",
        headers: dict[str, str] | None = None,
        *,
        key: str = "member",
        at: datetime | None = None,
        **options: Any,
    ) -> Raw:
        """A header-signed request, signed now (or ``at``) for the gateway's own host."""
        signer = self.keys[key]
        return signed(
            method,
            path,
            query,
            body,
            headers,
            key_id=options.pop("key_id", signer.access_key_id),
            secret=options.pop("secret", signer.secret),
            at=at or datetime.now(UTC),
            host=self.host,
            **options,
        )

    def presign(
        self,
        method: str,
        path: str,
        query: str = "",
        *,
        key: str = "member",
        at: datetime | None = None,
        **options: Any,
    ) -> Raw:
        """A presigned URL made now (or ``at``) for the gateway's own host."""
        signer = self.keys[key]
        return presigned(
            method,
            path,
            query,
            key_id=options.pop("key_id", signer.access_key_id),
            secret=options.pop("secret", signer.secret),
            at=at or datetime.now(UTC),
            host=self.host,
            **options,
        )

    def client(self, key: str = "member", **config: Any) -> Any:
        """A path-style boto3 S3 client of the gateway signing with the key ``key``."""
        signer = self.keys[key]
        return boto3.client(
            "s3",
            endpoint_url=self.url,
            aws_access_key_id=signer.access_key_id,
            aws_secret_access_key=signer.secret,
            region_name="us-east-1",
            config=Config(
                signature_version="s3v4", s3={"addressing_style": "path"}, retries={"max_attempts": 1}, **config
            ),
        )

    def stored(self, organization_bucket: str, key: str) -> bytes | None:
        """The bytes the store holds at ``key`` of an organization's bucket, read from its folder."""
        path = self.store.root / organization_bucket / key
        return path.read_bytes() if path.is_file() else None

    def snapshot(self) -> dict[str, bytes | None]:
        """Every file (with its bytes) and folder under the store's root, by path."""
        return snapshot(self.store.root)


def snapshot(root: Path) -> dict[str, bytes | None]:
    return {
        path.relative_to(root).as_posix(): path.read_bytes() if path.is_file() else None
        for path in sorted(root.rglob("*"))
    }


def build_world(url: str, organization: Any, member: Any, owner: Any, store: RcloneS3) -> GatewayWorld:
    """acme's spaces and keys as :class:`GatewayWorld` describes them, the objects seeded upstream."""
    acme = connect_new_bucket(organization, store)
    make_active(acme)
    ref = create_space(organization, name="ref", description="Reference data")
    create_space(organization, name="vault", description="Nobody here may read it")
    Grant.objects.create(user=member, scope=Scope.SPACE, role=Role.USER, organization=organization, space=ref)
    globex_org = create_organization(name="globex", display_name="Globex", owner=member)
    theirs = create_space(globex_org, name="raw", description="Theirs")
    Grant.objects.create(user=member, scope=Scope.SPACE, role=Role.SUPPLIER, organization=globex_org, space=theirs)
    globex = connect_new_bucket(globex_org, store)
    make_active(globex)
    acme_bucket, globex_bucket = location_for(acme, "raw").bucket, location_for(globex, "raw").bucket
    upstream = store.client()
    for bucket, objects in ((acme_bucket, ACME_OBJECTS), (globex_bucket, GLOBEX_OBJECTS)):
        for name, data in objects.items():
            upstream.put_object(Bucket=bucket, Key=name, Body=data)

    def usable(user: Any, org: Any = organization) -> SigningKey:
        issued = issue_key(user, org, lifetime_days=30)
        return SigningKey(issued.key.access_key_id, issued.secret_key)

    def acme_user(email: str) -> Any:
        user = make_user(email)
        Grant.objects.create(user=user, scope=Scope.ORGANIZATION, role=Role.ACCESS, organization=organization)
        return user

    keys = {"member": usable(member), "globex": usable(member, globex_org), "stranger": usable(acme_user("x@e.com"))}
    deactivated = usable(owner)
    deactivate_key(AccessKey.objects.get(access_key_id=deactivated.access_key_id).pk)
    expired = usable(acme_user("expired@example.com"))
    lapsed = AccessKey.objects.get(access_key_id=expired.access_key_id)
    lapsed.expires = timezone.now() - timedelta(minutes=1)
    lapsed.save(update_fields=["expires"])
    rotated = usable(acme_user("rotated@example.com"))
    old = AccessKey.objects.get(access_key_id=rotated.access_key_id)
    rotate_key(old.pk, now=timezone.now() - timedelta(days=20))
    leaver = acme_user("leaver@example.com")
    inactive = usable(leaver)
    leaver.is_active = False
    leaver.save()
    keys |= {"deactivated": deactivated, "expired": expired, "rotated": rotated, "owner-inactive": inactive}
    return GatewayWorld(url, store, acme_bucket, globex_bucket, keys)


@pytest.fixture(name="world")
def world_fixture(
    gateway_url: str, organization: Any, space: Any, member: Any, owner: Any, rclone_s3: RcloneS3
) -> GatewayWorld:
    return build_world(gateway_url, organization, member, owner, rclone_s3)


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes = field(repr=False)
    continued: bool = False  # the gateway answered "100 Continue" and read the body

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")

    def error(self) -> tuple[str, str]:
        """The (Code, RequestId) of the S3 error document in the body; raises if it is none."""
        root = ElementTree.fromstring(self.body)  # noqa: S314 - the gateway's own answer
        assert root.tag == "Error", self.body
        return root.findtext("Code") or "", root.findtext("RequestId") or ""


def send(world: GatewayWorld, raw: Raw, *, wait: float = 10.0) -> Answer:
    """Send ``raw`` exactly as written (with the length of its body) and read the answer.

    With ``Expect: 100-continue`` the body is held until the gateway answers: a final answer means
    the body never left; ``100 Continue`` means the gateway asked for it (``continued``).
    """
    target = raw.path + (f"?{raw.query}" if raw.query else "")
    lines = [f"{raw.method} {target} HTTP/1.1"]
    lines += [f"{name}: {value}" for name, value in raw.without_header("Content-Length").headers]
    if raw.body or raw.method in ("PUT", "POST"):
        lines.append(f"Content-Length: {len(raw.body)}")
    lines.append("Connection: close")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    holds_body = any(name.lower() == "expect" and value.lower() == "100-continue" for name, value in raw.headers)
    with socket.create_connection(world.address, timeout=wait) as sock:
        reader = sock.makefile("rb")
        if holds_body:
            sock.sendall(head)
            status, headers = _head(reader)
            if status != 100:
                return Answer(status, headers, _body(reader, headers, raw.method))
            _deliver(sock, raw.body)
            status, headers = _head(reader)
            return Answer(status, headers, _body(reader, headers, raw.method), continued=True)
        _deliver(sock, head + raw.body)
        status, headers = _head(reader)
        return Answer(status, headers, _body(reader, headers, raw.method))


def _deliver(sock: socket.socket, data: bytes) -> None:
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
        sock.sendall(data)  # the gateway may answer and close before it reads a body it refuses


def _head(reader: Any) -> tuple[int, dict[str, str]]:
    status_line = reader.readline().decode("latin-1")
    assert status_line.startswith("HTTP/1.1 "), f"no HTTP answer: {status_line!r}"
    headers: dict[str, str] = {}
    while True:
        line = reader.readline().decode("latin-1").rstrip("\r\n")
        if not line:
            return int(status_line.split()[1]), headers
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()


def _body(reader: Any, headers: dict[str, str], method: str) -> bytes:
    if method == "HEAD":
        return b""
    if "content-length" in headers:
        return bytes(reader.read(int(headers["content-length"])))
    return bytes(reader.read())


STREAMING_SIGNED = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
STREAMING_SIGNED_TRAILER = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
STREAMING_UNSIGNED_TRAILER = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
CHECKSUM_TRAILERS = (
    "x-amz-checksum-crc32",
    "x-amz-checksum-crc32c",
    "x-amz-checksum-crc64nvme",
    "x-amz-checksum-sha1",
    "x-amz-checksum-sha256",
)


def checksum_of(trailer: str, data: bytes) -> str:
    """The base64 value of the checksum trailer ``trailer`` for ``data``."""
    running = new_checksum(trailer)
    running.update(data)
    return encoded(running)


@dataclass
class Streaming:
    """An aws-chunked PUT: its signed head, then chunks, chunk signatures and trailer that a test may
    change before :meth:`request` lays them out."""

    head: Raw
    key: bytes = field(repr=False)
    scope: str
    chunks: list[bytes] = field(repr=False)
    signatures: list[str | None]
    trailer: tuple[str, str] | None = None
    trailer_signature: str | None = None

    @property
    def amz_date(self) -> str:
        return self.head.header("X-Amz-Date")

    @property
    def seed(self) -> str:
        return self.head.header("Authorization").rpartition("Signature=")[2]

    def chain(self, key: bytes | None = None, *, restart: bool = False) -> None:
        """Sign the chunks (and the trailer) in their chain from the seed, with ``key`` if given;
        ``restart`` signs each chunk from the seed instead of from the chunk before it."""
        previous = self.seed
        for index, data in enumerate(self.chunks):
            signature = chunk_signature(key or self.key, self.amz_date, self.scope, previous, data)
            self.signatures[index] = signature
            previous = self.seed if restart else signature
        if self.trailer is not None:
            line = f"{self.trailer[0]}:{self.trailer[1]}"
            self.trailer_signature = trailer_signature(key or self.key, self.amz_date, self.scope, previous, line)

    def body(self, signed: bool) -> bytes:
        out = bytearray()
        for data, signature in zip(self.chunks, self.signatures, strict=True):
            extension = f";chunk-signature={signature}" if signed and signature is not None else ""
            out += f"{len(data):x}{extension}\r\n".encode() + data + (b"\r\n" if data else b"")
        if self.trailer is not None:
            out += f"{self.trailer[0]}:{self.trailer[1]}\r\n".encode()
            if signed and self.trailer_signature is not None:
                out += f"x-amz-trailer-signature:{self.trailer_signature}\r\n".encode()
        return bytes(out + b"\r\n")

    def request(self) -> Raw:
        """The request as it goes out; ``Content-Length`` (not signed) follows the body."""
        body = self.body(self.head.header("x-amz-content-sha256") != STREAMING_UNSIGNED_TRAILER)
        return replace(self.head.with_header("Content-Length", str(len(body))), body=body)


def streaming_put(
    world: GatewayWorld,
    path: str,
    data: bytes,
    mode: str,
    *,
    trailer: str | None = None,
    chunk_size: int = 64 * 1024,
    key: str = "member",
) -> Streaming:
    """A correctly signed aws-chunked PUT of ``data`` in ``mode``, with the ``trailer`` checksum."""
    headers = {
        "x-amz-content-sha256": mode,
        "content-encoding": "aws-chunked",
        "x-amz-decoded-content-length": str(len(data)),
    }
    if trailer is not None:
        headers["x-amz-trailer"] = trailer
    head = world.sign("PUT", path, headers=headers, key=key)
    date = head.header("X-Amz-Date")[:8]
    chunks = [data[i : i + chunk_size] for i in range(0, len(data), chunk_size)] + [b""]
    streaming = Streaming(
        head=head,
        key=signing_key(world.keys[key].secret, date),
        scope=f"{date}/us-east-1/s3/aws4_request",
        chunks=chunks,
        signatures=[None] * len(chunks),
        trailer=(trailer, checksum_of(trailer, data)) if trailer is not None else None,
    )
    if mode != STREAMING_UNSIGNED_TRAILER:
        streaming.chain()
    return streaming
