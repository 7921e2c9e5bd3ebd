"""The hostile corpus end to end: hundreds of forged, tampered, stale and misdirected requests sent
byte for byte to a live gateway in front of ``rclone serve s3``. Each is refused with the S3 error
AWS answers for that fault, as S3 XML whose RequestId is the ``x-amz-request-id`` header; none asks
for a body it will refuse; and the store's files are byte for byte what they were before.

The corpus is generated: every request the gateway serves, signed correctly (each is first shown to
be accepted), then broken in one way at a time. Requests are signed at the moment they are sent,
against the gateway's real clock.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from urllib.parse import quote, unquote_to_bytes
from xml.etree import ElementTree

import pytest
from prometheus_client import REGISTRY

from tests.gateway_signing import Raw
from tests.gateway_world import (  # noqa: F401
    ACME_OBJECTS,
    CHECKSUM_TRAILERS,
    GLOBEX_OBJECTS,
    STREAMING_SIGNED,
    STREAMING_SIGNED_TRAILER,
    STREAMING_UNSIGNED_TRAILER,
    Answer,
    GatewayWorld,
    Streaming,
    checksum_of,
    send,
    streaming_put,
    world_fixture,
)

pytestmark = pytest.mark.django_db(transaction=True)

# The HTTP status AWS answers with each code (written out here, not read from the gateway).
STATUS = {
    "AccessDenied": 403,
    "SignatureDoesNotMatch": 403,
    "RequestTimeTooSkewed": 403,
    "InvalidAccessKeyId": 403,
    "AuthorizationHeaderMalformed": 400,
    "AuthorizationQueryParametersError": 400,
    "XAmzContentSHA256Mismatch": 400,
    "InvalidRequest": 400,
    "InvalidArgument": 400,
    "IncompleteBody": 400,
    "BadDigest": 400,
    "NoSuchBucket": 404,
}

BODY = b"a hostile body, a few KiB of it\n" * 64
BIG = bytes(range(256)) * 2400  # 600 KiB: read in several pieces, the first ones forwarded before the end
EXPECT = ("Expect", "100-continue")

Maker = Callable[..., Raw]


@dataclass(frozen=True)
class Case:
    name: str
    make: Callable[[GatewayWorld], Raw | None]  # None: the breaking does not apply to this request
    code: str
    in_body: bool = False  # the fault is in the body: the gateway must ask for it to find the fault


# Requests of every shape, correctly signed by the acme member's key (``**kw`` reaches the signer).
HEADER_SIGNED: dict[str, Maker] = {
    "get": lambda w, **kw: w.sign("GET", "/acme-raw/in/existing.csv", **kw),
    "get-range": lambda w, **kw: w.sign("GET", "/acme-raw/in/existing.csv", headers={"Range": "bytes=0-3"}, **kw),
    "list": lambda w, **kw: w.sign("GET", "/acme-raw", "delimiter=%2F&list-type=2&prefix=in%2F", **kw),
    "list-buckets": lambda w, **kw: w.sign("GET", "/", **kw),
    "overwrite": lambda w, **kw: w.sign(
        "PUT", "/acme-raw/in/existing.csv", body=BODY, headers={"Content-Type": "text/csv"}, **kw
    ),
    "put-new": lambda w, **kw: w.sign("PUT", "/acme-raw/in/new.csv", body=BODY, **kw),
    "put-meta": lambda w, **kw: w.sign(
        "PUT", "/acme-raw/in/meta.csv", body=BODY, headers={"x-amz-meta-run": "7"}, **kw
    ),
    "put-unsigned-payload": lambda w, **kw: w.sign("PUT", "/acme-raw/in/u.csv", body=BODY, unsigned_payload=True, **kw),
    "upload-part": lambda w, **kw: w.sign(
        "PUT", "/acme-raw/in/big.bin", "partNumber=1&uploadId=abc123", body=BODY, **kw
    ),
    "create-upload": lambda w, **kw: w.sign("POST", "/acme-raw/in/big.bin", "uploads", **kw),
    "complete-upload": lambda w, **kw: w.sign(
        "POST",
        "/acme-raw/in/big.bin",
        "uploadId=abc123",
        body=b"<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>x</ETag></Part></CompleteMultipartUpload>",
        **kw,
    ),
    "delete": lambda w, **kw: w.sign("DELETE", "/acme-raw/in/existing.csv", **kw),
    "delete-many": lambda w, **kw: w.sign(
        "POST", "/acme-raw", "delete", body=b"<Delete><Object><Key>in/existing.csv</Key></Object></Delete>", **kw
    ),
    "copy": lambda w, **kw: w.sign(
        "PUT", "/acme-raw/in/copy.csv", headers={"x-amz-copy-source": "/acme-raw/in/existing.csv"}, **kw
    ),
}

PRESIGNED: dict[str, Maker] = {
    "presigned-get": lambda w, **kw: w.presign("GET", "/acme-raw/in/existing.csv", **kw),
    "presigned-list": lambda w, **kw: w.presign("GET", "/acme-raw", "list-type=2", **kw),
    "presigned-put": lambda w, **kw: replace(w.presign("PUT", "/acme-raw/in/existing.csv", **kw), body=BODY),
    "presigned-delete": lambda w, **kw: w.presign("DELETE", "/acme-raw/in/existing.csv", **kw),
    "presigned-part": lambda w, **kw: replace(
        w.presign("PUT", "/acme-raw/in/big.bin", "partNumber=2&uploadId=abc123", **kw), body=BODY
    ),
}

# The unbroken requests the gateway serves today, shown to succeed before the corpus runs.
ACCEPTED = ("get", "get-range", "list", "list-buckets", "overwrite", "put-new", "put-meta", "put-unsigned-payload")
ACCEPTED_PRESIGNED = ("presigned-get", "presigned-list", "presigned-put")


def now(**delta: float) -> datetime:
    return datetime.now(UTC) + timedelta(**delta)


def with_query(raw: Raw, extra: str) -> Raw:
    return replace(raw, query=f"{raw.query}&{extra}" if raw.query else extra)


def changed_signature(raw: Raw, change: Callable[[str], str]) -> Raw:
    if "X-Amz-Signature=" in raw.query:
        head, _, rest = raw.query.partition("X-Amz-Signature=")
        given, sep, tail = rest.partition("&")
        return replace(raw, query=head + "X-Amz-Signature=" + change(given) + sep + tail)
    head, _, given = raw.header("Authorization").partition("Signature=")
    return raw.replacing_header("Authorization", head + "Signature=" + change(given))


def flip(text: str) -> str:
    return text[:-1] + ("0" if text[-1:] != "0" else "1")


def later_date(amz_date: str) -> str:
    moment = datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ") + timedelta(seconds=1)
    return moment.strftime("%Y%m%dT%H%M%SZ")


def tampered_header(raw: Raw, name: str, change: Callable[[str], str]) -> Raw | None:
    """``raw`` with the header ``name`` changed after signing; ``None`` when it has no such header."""
    if not any(n.lower() == name for n, _ in raw.headers):
        return None
    return raw.replacing_header(name, change(raw.header(name)))


def added_header(raw: Raw, name: str, value: str) -> Raw | None:
    """``raw`` with an unsigned header added; ``None`` when it carries (and signed) one already."""
    if any(n.lower() == name for n, _ in raw.headers):
        return None
    return raw.with_header(name, value)


def other_payload_hash(value: str) -> str:
    return hashlib.sha256(b"another body").hexdigest() if value == "UNSIGNED-PAYLOAD" else "UNSIGNED-PAYLOAD"


def authorization_changed(raw: Raw, change: Callable[[str], str]) -> Raw:
    return raw.replacing_header("Authorization", change(raw.header("Authorization")))


def query_param(raw: Raw, name: str) -> str:
    return next(p.partition("=")[2] for p in raw.query.split("&") if p.startswith(f"{name}="))


def query_changed(raw: Raw, name: str, change: Callable[[str], str]) -> Raw:
    parts = [f"{name}={change(p.partition('=')[2])}" if p.startswith(f"{name}=") else p for p in raw.query.split("&")]
    return replace(raw, query="&".join(parts))


def query_without(raw: Raw, prefix: str) -> Raw:
    return replace(raw, query="&".join(p for p in raw.query.split("&") if not p.startswith(prefix)))


def path_changed(raw: Raw, change: Callable[[str], str]) -> Raw | None:
    path = change(raw.path)
    return replace(raw, path=path) if path != raw.path else None


# A way to break a request: (its maker, the world) -> the broken request, or None where it does not apply.
Breaking = Callable[[Maker, GatewayWorld], "Raw | None"]

COMMON: dict[str, tuple[Breaking, str]] = {
    "wrong-secret": (lambda m, w: m(w, secret="not-the-secret-at-all"), "SignatureDoesNotMatch"),
    "unknown-key": (lambda m, w: m(w, key_id="SPKUNKNOWNUNKNOWN000"), "InvalidAccessKeyId"),
    "deactivated-key": (lambda m, w: m(w, key="deactivated"), "InvalidAccessKeyId"),
    "expired-key": (lambda m, w: m(w, key="expired"), "InvalidAccessKeyId"),
    "rotated-key-past-grace": (lambda m, w: m(w, key="rotated"), "InvalidAccessKeyId"),
    "inactive-owners-key": (lambda m, w: m(w, key="owner-inactive"), "InvalidAccessKeyId"),
    "borrowed-key-id": (lambda m, w: m(w, key_id=w.keys["globex"].access_key_id), "SignatureDoesNotMatch"),
    "tampered-key": (lambda m, w: path_changed(m(w), lambda p: p + "x"), "SignatureDoesNotMatch"),
    "tampered-bucket": (
        lambda m, w: path_changed(m(w), lambda p: p.replace("/acme-raw", "/acme-ref", 1)),
        "SignatureDoesNotMatch",
    ),
    "added-upload-id": (lambda m, w: with_query(m(w), "uploadId=abc123"), "SignatureDoesNotMatch"),
    "added-part-number": (lambda m, w: with_query(m(w), "partNumber=1&uploadId=x"), "SignatureDoesNotMatch"),
    "added-version-id": (lambda m, w: with_query(m(w), "versionId=1"), "SignatureDoesNotMatch"),
    "tampered-host": (lambda m, w: m(w).replacing_header("Host", "evil.example"), "SignatureDoesNotMatch"),
    "flipped-signature": (lambda m, w: changed_signature(m(w), flip), "SignatureDoesNotMatch"),
    "upper-case-signature": (lambda m, w: changed_signature(m(w), str.upper), "SignatureDoesNotMatch"),
    "truncated-signature": (lambda m, w: changed_signature(m(w), lambda s: s[:40]), "SignatureDoesNotMatch"),
    "empty-signature": (lambda m, w: changed_signature(m(w), lambda s: ""), "SignatureDoesNotMatch"),
    "unsigned-acl-header": (lambda m, w: added_header(m(w), "x-amz-acl", "public-read"), "AccessDenied"),
    "unsigned-metadata": (lambda m, w: added_header(m(w), "x-amz-meta-owner", "mallory"), "AccessDenied"),
    "unsigned-copy-source": (
        lambda m, w: added_header(m(w), "x-amz-copy-source", "/acme-vault/secret.txt"),
        "AccessDenied",
    ),
    "sigv2-header": (
        lambda m, w: m(w).without_header("Authorization").with_header("Authorization", "AWS SPKAAAA:c2lnbmF0dXJl"),
        "InvalidRequest",
    ),
}

HEADER_ONLY: dict[str, tuple[Breaking, str]] = {
    "wrong-region": (lambda m, w: m(w, region="eu-west-1"), "AuthorizationHeaderMalformed"),
    "wrong-service": (lambda m, w: m(w, service="s3-object-lambda"), "AuthorizationHeaderMalformed"),
    "clock-16-minutes-ahead": (lambda m, w: m(w, at=now(minutes=16)), "RequestTimeTooSkewed"),
    "clock-16-minutes-behind": (lambda m, w: m(w, at=now(minutes=-16)), "RequestTimeTooSkewed"),
    "replayed-next-day": (lambda m, w: m(w, at=now(days=-1)), "RequestTimeTooSkewed"),
    "tampered-date": (lambda m, w: tampered_header(m(w), "x-amz-date", later_date), "SignatureDoesNotMatch"),
    "tampered-payload-hash": (
        lambda m, w: tampered_header(m(w), "x-amz-content-sha256", other_payload_hash),
        "SignatureDoesNotMatch",
    ),
    "tampered-content-type": (
        lambda m, w: tampered_header(m(w), "content-type", lambda v: "text/html"),
        "SignatureDoesNotMatch",
    ),
    "tampered-range": (lambda m, w: tampered_header(m(w), "range", lambda v: "bytes=0-"), "SignatureDoesNotMatch"),
    "tampered-metadata": (lambda m, w: tampered_header(m(w), "x-amz-meta-run", lambda v: "8"), "SignatureDoesNotMatch"),
    "retargeted-copy-source": (
        lambda m, w: tampered_header(m(w), "x-amz-copy-source", lambda v: "/acme-vault/secret.txt"),
        "SignatureDoesNotMatch",
    ),
    "payload-hash-not-signed": (
        lambda m, w: authorization_changed(m(w), lambda a: a.replace(";x-amz-content-sha256", "")),
        "AccessDenied",
    ),
    "no-date": (lambda m, w: m(w).without_header("X-Amz-Date"), "AccessDenied"),
    "anonymous": (lambda m, w: m(w).without_header("Authorization"), "AccessDenied"),
    "no-signature-field": (
        lambda m, w: authorization_changed(m(w), lambda a: a.rsplit(",", 1)[0]),
        "AuthorizationHeaderMalformed",
    ),
    "sigv2-query": (
        lambda m, w: with_query(m(w).without_header("Authorization"), "AWSAccessKeyId=SPKA&Expires=1&Signature=abc"),
        "InvalidRequest",
    ),
    "both-mechanisms": (lambda m, w: with_query(m(w), "X-Amz-Algorithm=AWS4-HMAC-SHA256"), "InvalidArgument"),
}

PRESIGNED_ONLY: dict[str, tuple[Breaking, str]] = {
    "wrong-region": (lambda m, w: m(w, region="eu-west-1"), "AuthorizationQueryParametersError"),
    "wrong-service": (lambda m, w: m(w, service="sts"), "AuthorizationQueryParametersError"),
    "expired-an-hour-ago": (lambda m, w: m(w, at=now(hours=-2), expires=3600), "AccessDenied"),
    "expired-a-second-ago": (lambda m, w: m(w, at=now(seconds=-61), expires=60), "AccessDenied"),
    "made-a-week-ago": (lambda m, w: m(w, at=now(days=-7, seconds=-5), expires=604800), "AccessDenied"),
    "not-valid-yet": (lambda m, w: m(w, at=now(minutes=16)), "AccessDenied"),
    "expires-over-seven-days": (lambda m, w: m(w, expires=604801), "AuthorizationQueryParametersError"),
    "expires-in-a-year": (lambda m, w: m(w, expires=365 * 86400), "AuthorizationQueryParametersError"),
    "stretched-expiry": (
        lambda m, w: query_changed(m(w), "X-Amz-Expires", lambda v: "7200"),
        "SignatureDoesNotMatch",
    ),
    "negative-expiry": (
        lambda m, w: query_changed(m(w), "X-Amz-Expires", lambda v: "-1"),
        "AuthorizationQueryParametersError",
    ),
    "tampered-date": (lambda m, w: query_changed(m(w), "X-Amz-Date", later_date), "SignatureDoesNotMatch"),
    "no-signature": (lambda m, w: query_without(m(w), "X-Amz-Signature="), "AuthorizationQueryParametersError"),
    "duplicate-signature": (
        lambda m, w: with_query(m(w), "X-Amz-Signature=" + "0" * 64),
        "AuthorizationQueryParametersError",
    ),
    "anonymous": (lambda m, w: query_without(m(w), "X-Amz-"), "AccessDenied"),
    "header-and-query": (
        lambda m, w: m(w).with_header(
            "Authorization", "AWS4-HMAC-SHA256 Credential=a/b, SignedHeaders=host, Signature=0"
        ),
        "InvalidArgument",
    ),
}

# Bodies changed after signing their SHA-256 (Content-Length follows the body, it is not signed).
SIGNED_BODIES: dict[str, Maker] = {
    "overwrite": lambda w, **kw: w.sign(
        "PUT", "/acme-raw/in/existing.csv", body=BIG, headers={"Content-Type": "text/csv"}, **kw
    ),
    "put-new": lambda w, **kw: w.sign("PUT", "/acme-raw/in/big-new.bin", body=BIG, **kw),
    "put-meta": lambda w, **kw: w.sign(
        "PUT", "/acme-raw/in/big-meta.bin", body=BIG, headers={"x-amz-meta-a": "b"}, **kw
    ),
}
BODY_CHANGES: dict[str, Callable[[bytes], bytes]] = {
    "last-byte-changed": lambda body: body[:-1] + bytes([body[-1] ^ 1]),
    "first-byte-changed": lambda body: bytes([body[0] ^ 1]) + body[1:],
    "longer": lambda body: body + b"appended",
    "shorter": lambda body: body[:-1],
    "emptied": lambda body: b"",
    "reversed": lambda body: body[::-1],
}

# Correctly signed requests that the key's owner may not make, or that name a bucket it cannot see.
NOT_ALLOWED: dict[str, tuple[Callable[[GatewayWorld], Raw], str]] = {
    "put-into-read-only-space": (lambda w: w.sign("PUT", "/acme-ref/new.txt", body=BODY), "AccessDenied"),
    "overwrite-in-read-only-space": (lambda w: w.sign("PUT", "/acme-ref/ref.txt", body=BODY), "AccessDenied"),
    "presigned-put-into-read-only-space": (
        lambda w: replace(w.presign("PUT", "/acme-ref/ref.txt"), body=BODY),
        "AccessDenied",
    ),
    "delete-in-read-only-space": (lambda w: w.sign("DELETE", "/acme-ref/ref.txt"), "AccessDenied"),
    "delete-as-supplier": (lambda w: w.sign("DELETE", "/acme-raw/in/existing.csv"), "AccessDenied"),
    "get-from-unreadable-space": (lambda w: w.sign("GET", "/acme-vault/secret.txt"), "AccessDenied"),
    "presigned-get-from-unreadable-space": (lambda w: w.presign("GET", "/acme-vault/secret.txt"), "AccessDenied"),
    "list-unreadable-space": (lambda w: w.sign("GET", "/acme-vault", "list-type=2"), "AccessDenied"),
    "put-into-unreadable-space": (lambda w: w.sign("PUT", "/acme-vault/secret.txt", body=BODY), "AccessDenied"),
    "stranger-get": (lambda w: w.sign("GET", "/acme-raw/in/existing.csv", key="stranger"), "AccessDenied"),
    "stranger-put": (lambda w: w.sign("PUT", "/acme-raw/in/existing.csv", body=BODY, key="stranger"), "AccessDenied"),
    "stranger-list": (lambda w: w.sign("GET", "/acme-raw", "list-type=2", key="stranger"), "AccessDenied"),
    "other-organizations-get": (lambda w: w.sign("GET", "/globex-raw/theirs.txt"), "NoSuchBucket"),
    "other-organizations-presigned-get": (lambda w: w.presign("GET", "/globex-raw/theirs.txt"), "NoSuchBucket"),
    "other-organizations-put": (lambda w: w.sign("PUT", "/globex-raw/evil.txt", body=BODY), "NoSuchBucket"),
    "other-organizations-overwrite": (lambda w: w.sign("PUT", "/globex-raw/theirs.txt", body=BODY), "NoSuchBucket"),
    "other-organizations-delete": (lambda w: w.sign("DELETE", "/globex-raw/theirs.txt"), "NoSuchBucket"),
    "other-organizations-list": (lambda w: w.sign("GET", "/globex-raw", "list-type=2"), "NoSuchBucket"),
    "other-organizations-key-into-acme": (
        lambda w: w.sign("PUT", "/acme-raw/in/existing.csv", body=BODY, key="globex"),
        "NoSuchBucket",
    ),
    "bucket-that-does-not-exist": (lambda w: w.sign("PUT", "/acme-nothing/x.txt", body=BODY), "NoSuchBucket"),
    "the-stores-own-bucket-name": (
        lambda w: w.sign("GET", f"/{w.acme_bucket}/raw/in/existing.csv"),
        "NoSuchBucket",
    ),
    "the-other-stores-bucket-name": (
        lambda w: w.sign("PUT", f"/{w.globex_bucket}/raw/theirs.txt", body=BODY),
        "NoSuchBucket",
    ),
    "copy-from-an-unreadable-space": (
        lambda w: w.sign("PUT", "/acme-raw/in/copy.csv", headers={"x-amz-copy-source": "/acme-vault/secret.txt"}),
        "AccessDenied",
    ),
    "copy-from-an-unreadable-space-encoded": (
        lambda w: w.sign("PUT", "/acme-raw/in/copy.csv", headers={"x-amz-copy-source": "acme-vault%2Fsecret.txt"}),
        "AccessDenied",
    ),
}


def streaming_changes() -> dict[str, tuple[str, str | None, Callable[[Streaming], None], str]]:
    """Ways to break an aws-chunked body: (mode, trailer, change, code)."""
    changes: dict[str, tuple[str, str | None, Callable[[Streaming], None], str]] = {}

    def flip_signature(index: int) -> Callable[[Streaming], None]:
        def change(s: Streaming) -> None:
            s.signatures[index] = flip(s.signatures[index] or "0")

        return change

    def altered_data(s: Streaming) -> None:
        s.chunks[1] = s.chunks[1][:-1] + bytes([s.chunks[1][-1] ^ 1])

    def altered_and_resigned_data(s: Streaming) -> None:
        altered_data(s)
        s.chain()

    def swapped(s: Streaming) -> None:
        s.chunks[0], s.chunks[1] = s.chunks[1], s.chunks[0]
        s.signatures[0], s.signatures[1] = s.signatures[1], s.signatures[0]

    def dropped(s: Streaming) -> None:
        del s.chunks[1]
        del s.signatures[1]

    def unsigned_chunk(s: Streaming) -> None:
        s.signatures[0] = None

    for mode, trailer in ((STREAMING_SIGNED, None), (STREAMING_SIGNED_TRAILER, "x-amz-checksum-crc32")):
        short = "signed" if trailer is None else "signed-trailer"
        for name, change in {
            "first-chunk-signature-flipped": flip_signature(0),
            "final-chunk-signature-flipped": flip_signature(-1),
            "chunk-data-changed": altered_data,
            "chunks-swapped": swapped,
            "chunk-dropped": dropped,
            "chunk-without-signature": unsigned_chunk,
            "chunks-signed-with-a-wrong-secret": lambda s: s.chain(b"\0" * 32),
            "chain-restarted-at-each-chunk": lambda s: s.chain(restart=True),
        }.items():
            changes[f"{short}-{name}"] = (mode, trailer, change, "SignatureDoesNotMatch")
    changes["signed-trailer-signature-flipped"] = (
        STREAMING_SIGNED_TRAILER,
        "x-amz-checksum-sha256",
        lambda s: setattr(s, "trailer_signature", flip(s.trailer_signature or "0")),
        "SignatureDoesNotMatch",
    )
    changes["signed-trailer-signature-missing"] = (
        STREAMING_SIGNED_TRAILER,
        "x-amz-checksum-sha256",
        lambda s: setattr(s, "trailer_signature", None),
        "SignatureDoesNotMatch",
    )
    for trailer in CHECKSUM_TRAILERS:
        algorithm = trailer.rsplit("-", 1)[1]

        def wrong_checksum(s: Streaming, trailer: str = trailer) -> None:
            s.trailer = (trailer, checksum_of(trailer, b"some other body"))

        def wrong_checksum_resigned(s: Streaming, trailer: str = trailer) -> None:
            s.trailer = (trailer, checksum_of(trailer, b"some other body"))
            s.chain()

        changes[f"signed-trailer-wrong-{algorithm}"] = (
            STREAMING_SIGNED_TRAILER,
            trailer,
            wrong_checksum_resigned,
            "BadDigest",
        )
        changes[f"unsigned-trailer-wrong-{algorithm}"] = (
            STREAMING_UNSIGNED_TRAILER,
            trailer,
            wrong_checksum,
            "BadDigest",
        )
        changes[f"unsigned-trailer-data-changed-{algorithm}"] = (
            STREAMING_UNSIGNED_TRAILER,
            trailer,
            altered_data,
            "BadDigest",
        )
        changes[f"signed-trailer-data-changed-and-resigned-{algorithm}"] = (
            STREAMING_SIGNED_TRAILER,
            trailer,
            altered_and_resigned_data,
            "BadDigest",
        )
    changes["unsigned-trailer-other-algorithm-than-announced"] = (
        STREAMING_UNSIGNED_TRAILER,
        "x-amz-checksum-crc32",
        lambda s: setattr(s, "trailer", ("x-amz-checksum-sha256", checksum_of("x-amz-checksum-sha256", BIG))),
        "InvalidRequest",
    )
    return changes


STREAMING_TARGETS = {"new": "/acme-raw/in/streamed.bin", "overwrite": "/acme-raw/in/existing.csv"}


def streamed(
    path: str, mode: str, trailer: str | None, change: Callable[[Streaming], None]
) -> Callable[[GatewayWorld], Raw]:
    def make(w: GatewayWorld) -> Raw:
        body = streaming_put(w, path, BIG, mode, trailer=trailer)
        change(body)
        return body.request()

    return make


def with_expect(make: Callable[[GatewayWorld], Raw | None]) -> Callable[[GatewayWorld], Raw | None]:
    """The request with ``Expect: 100-continue``, for requests that carry a body."""

    def expecting(w: GatewayWorld) -> Raw | None:
        raw = make(w)
        return raw.with_header(*EXPECT) if raw is not None and raw.method in ("PUT", "POST") else None

    return expecting


def corpus() -> list[Case]:
    """Every hostile case, by name; a request with a body is sent both plainly and with
    ``Expect: 100-continue`` (the gateway must refuse it before asking for the body)."""
    cases: list[tuple[str, Callable[[GatewayWorld], Raw | None], str, bool]] = []
    for makers, breakings in ((HEADER_SIGNED, {**COMMON, **HEADER_ONLY}), (PRESIGNED, {**COMMON, **PRESIGNED_ONLY})):
        for request_name, maker in makers.items():
            for breaking_name, (breaking, code) in breakings.items():
                cases.append((f"{request_name}/{breaking_name}", lambda w, b=breaking, m=maker: b(m, w), code, False))
    for request_name, maker in SIGNED_BODIES.items():
        for change_name, change in BODY_CHANGES.items():

            def make(w: GatewayWorld, m: Maker = maker, c: Callable[[bytes], bytes] = change) -> Raw:
                raw = m(w)
                return replace(raw.without_header("Content-Length"), body=c(raw.body))

            cases.append((f"{request_name}/body-{change_name}", make, "XAmzContentSHA256Mismatch", True))
    for name, (make_allowed, code) in NOT_ALLOWED.items():
        cases.append((name, make_allowed, code, False))
    for target, path in STREAMING_TARGETS.items():
        for name, (mode, trailer, change, code) in streaming_changes().items():
            cases.append((f"streaming-{target}/{name}", streamed(path, mode, trailer, change), code, True))
    out = []
    for name, make, code, in_body in cases:
        out.append(Case(name, make, code, in_body))
        out.append(Case(f"{name}/expect-100-continue", with_expect(make), code, in_body))
    return out


CORPUS = corpus()


def judged(case: Case, answer: Answer) -> list[str]:
    """What is wrong with the answer to ``case``; nothing when it is the refusal AWS would give."""
    problems = []
    if answer.continued and not case.in_body:
        problems.append("asked for the body (100 Continue) before refusing")
    if answer.status != STATUS[case.code]:
        problems.append(f"status {answer.status}, expected {STATUS[case.code]}")
    try:
        code, request_id = answer.error()
    except (AssertionError, ElementTree.ParseError):
        return [*problems, f"not an S3 error document: {answer.body[:120]!r}"]
    if code != case.code:
        problems.append(f"code {code}, expected {case.code}")
    if not request_id or request_id != answer.header("x-amz-request-id"):
        problems.append(
            f"RequestId {request_id!r} is not the x-amz-request-id header {answer.header('x-amz-request-id')!r}"
        )
    if not answer.header("content-type").startswith("application/xml"):
        problems.append(f"content type {answer.header('content-type')!r}")
    return problems


def accepted(world: GatewayWorld, raw: Raw) -> Answer:
    answer = send(world, raw)
    assert answer.status in (200, 204, 206), (raw.method, raw.path, raw.query, answer.status, answer.body[:300])
    return answer


def show_the_unbroken_requests_succeed(world: GatewayWorld) -> None:
    """Each request the corpus breaks, unbroken, is served: a refusal below is the breaking's doing."""
    for name in ACCEPTED:
        raw = HEADER_SIGNED[name](world)
        accepted(world, raw)
        if raw.method == "PUT":
            assert accepted(world, raw.with_header(*EXPECT)).continued, name
    for name in ACCEPTED_PRESIGNED:
        accepted(world, PRESIGNED[name](world))
    for maker in SIGNED_BODIES.values():
        accepted(world, maker(world))
    for mode, trailers in (
        (STREAMING_SIGNED, (None,)),
        (STREAMING_SIGNED_TRAILER, CHECKSUM_TRAILERS),
        (STREAMING_UNSIGNED_TRAILER, CHECKSUM_TRAILERS),
    ):
        for trailer in trailers:
            for path in STREAMING_TARGETS.values():
                accepted(world, streaming_put(world, path, BIG, mode, trailer=trailer).request())
    assert world.stored(world.acme_bucket, "raw/in/streamed.bin") == BIG


def test_the_corpus_is_large_and_names_are_unique() -> None:
    names = [case.name for case in CORPUS]
    assert len(set(names)) == len(names)
    assert len(CORPUS) >= 1000


def test_every_hostile_request_is_refused_and_the_store_is_unchanged(world: GatewayWorld) -> None:
    show_the_unbroken_requests_succeed(world)
    short_lived = {name: PRESIGNED[name](world, expires=3) for name in ("presigned-get", "presigned-put")}
    for raw in short_lived.values():
        accepted(world, raw)
    # The seeded object back as it was, so that an overwrite getting through would show in the snapshot.
    world.store.client().put_object(
        Bucket=world.acme_bucket, Key="raw/in/existing.csv", Body=ACME_OBJECTS["raw/in/existing.csv"]
    )
    used_at = time.monotonic()
    before = world.snapshot()
    assert before[f"{world.acme_bucket}/raw/in/existing.csv"] == ACME_OBJECTS["raw/in/existing.csv"]
    assert before[f"{world.globex_bucket}/raw/theirs.txt"] == GLOBEX_OBJECTS["raw/theirs.txt"]

    mismatches: dict[str, list[str]] = {}
    sent = 0
    started = time.monotonic()
    for case in CORPUS:
        raw = case.make(world)
        if raw is None:
            continue
        sent += 1
        problems = judged(case, send(world, raw))
        if problems:
            mismatches[case.name] = problems
    time.sleep(max(0.0, used_at + 4.5 - time.monotonic()))
    for name, raw in short_lived.items():
        replayed = Case(f"{name}/replayed-after-expiry", lambda w, r=raw: r, "AccessDenied")
        problems = judged(replayed, send(world, raw))
        if problems:
            mismatches[replayed.name] = problems
    elapsed = time.monotonic() - started

    after = world.snapshot()
    changed = sorted(path for path in before.keys() | after.keys() if before.get(path) != after.get(path))
    report = "\n".join(f"{name}: {'; '.join(problems)}" for name, problems in sorted(mismatches.items()))
    assert not mismatches and not changed, (
        f"the store's files changed: {changed}\n"
        f"{len(mismatches)} of {sent} hostile requests not refused as AWS would:\n{report}"
    )
    assert sent >= 500
    print(f"{sent} hostile requests refused in {elapsed:.1f} s")


def test_an_expectation_other_than_100_continue_is_refused_as_an_s3_error(
    world: GatewayWorld, caplog: pytest.LogCaptureFixture
) -> None:
    """An ``Expect`` the gateway cannot meet is refused with 417 before any check, signed or not, as
    an S3 error document whose RequestId is the header's, in one refusal line of the gateway's log,
    one access line and one count; the body never reaches the store."""
    caplog.set_level(logging.INFO, logger="spaceport.gateway")
    labels = {"operation": "Unknown", "status": "417"}
    counted = REGISTRY.get_sample_value("spaceport_gateway_requests_total", labels) or 0.0
    before = world.snapshot()
    signed = HEADER_SIGNED["overwrite"](world)
    for raw in (signed, signed.without_header("Authorization")):
        answer = send(world, raw.with_header("Expect", "200-ok"))
        assert (answer.status, answer.continued) == (417, False), answer.body
        assert answer.header("content-type").startswith("application/xml")
        code, request_id = answer.error()
        assert (code, request_id) == ("ExpectationFailed", answer.header("x-amz-request-id"))
        assert f"{request_id} PUT /acme-raw/in/existing.csv refused: ExpectationFailed" in caplog.text
    assert world.snapshot() == before

    def recorded() -> tuple[list[dict[str, object]], float]:
        """The refusals' access lines and their count: both follow the answer's last byte."""
        lines = [r.__dict__["fields"] for r in caplog.records if r.name == "spaceport.gateway.access"]
        count = REGISTRY.get_sample_value("spaceport_gateway_requests_total", labels) or 0.0
        return [line for line in lines if line["status"] == 417], count - counted

    deadline = time.monotonic() + 5
    while recorded()[1] < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    lines, count = recorded()
    assert [(line["error_code"], line["method"]) for line in lines] == [("ExpectationFailed", "PUT")] * 2
    assert count == 2


def traversals(w: GatewayWorld) -> dict[str, tuple[str, str]]:
    """Keys that try to leave the space, by name: (method, the path as sent)."""
    found: dict[str, tuple[str, str]] = {}
    dots = {"dots": "..", "encoded-dots": "%2e%2e", "upper-encoded-dots": "%2E%2E", "half-encoded-dots": ".%2e"}
    separators = {"slash": "/", "encoded-slash": "%2f", "encoded-backslash": "%5c", "backslash": "\\"}
    for dots_name, dot_dot in dots.items():
        for separator_name, separator in separators.items():
            for method, target in (
                ("GET", ["..", "vault", "secret.txt"]),
                ("PUT", ["..", "vault", "escaped.txt"]),
                ("PUT", ["..", "..", w.globex_bucket, "raw", "escaped.txt"]),
                ("PUT", ["..", "..", "..", "escaped.txt"]),
            ):
                sent = "/acme-raw/" + separator.join(dot_dot if part == ".." else part for part in target)
                found[f"{method}-{dots_name}-{separator_name}-{'-'.join(target[1:])}"] = (method, sent)
    for name, path in {
        "empty-segment": "/acme-raw//escaped.txt",
        "empty-segments": "/acme-raw/in///escaped.txt",
        "dot-segment": "/acme-raw/./escaped.txt",
        "dot-then-dots": "/acme-raw/in/./../../vault/escaped.txt",
        "leading-encoded-slash": "/acme-raw/%2f..%2fvault%2fescaped.txt",
        "bucket-with-encoded-slash": "/acme-raw%2f..%2facme-vault/escaped.txt",
    }.items():
        found[f"PUT-{name}"] = ("PUT", path)
        found[f"GET-{name}"] = ("GET", path.replace("escaped", "secret"))
    return found


def test_keys_that_would_leave_the_space_are_refused_or_stay_inside_it(world: GatewayWorld) -> None:
    """Correctly signed requests whose keys name ``..``, ``.``, ``//``, encoded slashes or backslashes:
    each is refused with an S3 error of the client's (never the store's) or lands inside the space's
    prefix; no answer carries another space's or organization's data."""
    before = world.snapshot()
    problems: dict[str, str] = {}
    cases = traversals(world)
    for name, (method, sent_path) in cases.items():
        # Signed as S3 canonicalises a path (decoded once, encoded once), so the signature matches.
        signed_path = quote(unquote_to_bytes(sent_path), safe="/~")
        raw = world.sign(method, signed_path, body=b"escaped?" if method == "PUT" else b"")
        answer = send(world, replace(raw, path=sent_path))
        if answer.status < 300:
            if ACME_OBJECTS["vault/secret.txt"] in answer.body or GLOBEX_OBJECTS["raw/theirs.txt"] in answer.body:
                problems[name] = "answered with data of another space"
            continue
        try:
            code, request_id = answer.error()
        except (AssertionError, ElementTree.ParseError):
            problems[name] = f"status {answer.status}, not an S3 error: {answer.body[:100]!r}"
            continue
        if code == "SignatureDoesNotMatch":
            problems[name] = "signed wrongly by the test: the case proves nothing"
        elif answer.status >= 500:
            problems[name] = f"{code} ({answer.status}): the request reached the store"
        elif request_id != answer.header("x-amz-request-id"):
            problems[name] = "RequestId is not the x-amz-request-id header"
    after = world.snapshot()
    inside = f"{world.acme_bucket}/raw/"
    escaped = sorted(
        p for p in before.keys() | after.keys() if before.get(p) != after.get(p) and not p.startswith(inside)
    )
    report = "\n".join(f"{name}: {problem}" for name, problem in sorted(problems.items()))
    assert not problems, f"{len(problems)} of {len(cases)} traversal requests mishandled:\n{report}"
    assert not escaped, f"objects appeared outside the space: {escaped}"
