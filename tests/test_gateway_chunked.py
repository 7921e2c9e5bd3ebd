"""Streaming uploads: aws-chunked bodies decoded as they arrive, every chunk signature checked in its
chain, and the checksum trailers newer SDKs send verified against the decoded body."""

from __future__ import annotations

import base64
import hashlib
import io
import zlib
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import google_crc32c
import pytest
from botocore.httpchecksum import AwsChunkedWrapper, Crc32Checksum, Sha256Checksum

from gateway.checksums import ALGORITHMS, crc64nvme, encoded, new_checksum
from gateway.chunked import MAX_CHUNK, MAX_LINE
from gateway.errors import S3Error
from gateway.sigv4 import VerifiedRequest, verify
from tests.gateway_signing import SIGNED_AT, Raw, aws_chunked, secrets, signed

# AWS's documented example: "Signature Calculations for the Authorization Header: Transferring
# Payload in Multiple Chunks (Chunked Upload)", PUT of 66560 bytes of "a" in 64 KiB chunks.
EXAMPLE_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
EXAMPLE_KEY_ID = "AKIAIOSFODNN7EXAMPLE"
EXAMPLE_HEADERS = [
    ("Host", "s3.amazonaws.com"),
    ("x-amz-date", "20130524T000000Z"),
    ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
    (
        "Authorization",
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
        "SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;"
        "x-amz-decoded-content-length;x-amz-storage-class,"
        "Signature=4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9",
    ),
    ("x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"),
    ("Content-Encoding", "aws-chunked"),
    ("x-amz-decoded-content-length", "66560"),
    ("Content-Length", "66824"),
]
EXAMPLE_SIGNATURES = (
    "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
    "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
    "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9",
)
EXAMPLE_BODY = (
    f"10000;chunk-signature={EXAMPLE_SIGNATURES[0]}\r\n".encode()
    + b"a" * 65536
    + f"\r\n400;chunk-signature={EXAMPLE_SIGNATURES[1]}\r\n".encode()
    + b"a" * 1024
    + f"\r\n0;chunk-signature={EXAMPLE_SIGNATURES[2]}\r\n\r\n".encode()
)
EXAMPLE_NOW = datetime(2013, 5, 24, 0, 5, tzinfo=UTC)


def example() -> VerifiedRequest:
    lookup = {EXAMPLE_KEY_ID: EXAMPLE_SECRET}.get
    return verify("PUT", "/examplebucket/chunkObject.txt", "", EXAMPLE_HEADERS, lookup, EXAMPLE_NOW)


def stream(verified: VerifiedRequest, body: bytes, piece: int, length: int | None = None) -> bytes:
    check = verified.body_check(len(body) if length is None else length)
    out = bytearray()
    for start in range(0, len(body), piece):
        out += check.feed(body[start : start + piece])
    return bytes(out + check.finish())


def refused(verified: VerifiedRequest, body: bytes, piece: int = 1000) -> str:
    with pytest.raises(S3Error) as caught:
        stream(verified, body, piece)
    return caught.value.code


def test_the_aws_example_is_accepted_in_pieces_of_any_size() -> None:
    assert len(EXAMPLE_BODY) == 66824
    for piece in (1, 7, 100, 4096, 65536, 66824):
        assert stream(example(), EXAMPLE_BODY, piece) == b"a" * 66560


def test_the_example_body_is_what_the_documented_chain_gives() -> None:
    verified = example()
    body = aws_chunked(
        b"a" * 66560,
        65536,
        key=verified.key,
        amz_date=verified.amz_date,
        scope=verified.scope,
        seed=verified.seed_signature,
    )
    assert body == EXAMPLE_BODY


@pytest.mark.parametrize("index", range(3))
def test_each_broken_chunk_signature_of_the_example_is_refused(index: int) -> None:
    signature = EXAMPLE_SIGNATURES[index]
    broken = signature[:-1] + ("0" if signature[-1] != "0" else "1")
    assert refused(example(), EXAMPLE_BODY.replace(signature.encode(), broken.encode())) == "SignatureDoesNotMatch"


def test_the_example_with_a_changed_byte_is_refused() -> None:
    body = bytearray(EXAMPLE_BODY)
    body[200] = ord("b")
    assert refused(example(), bytes(body)) == "SignatureDoesNotMatch"


def test_reordered_or_dropped_chunks_are_refused() -> None:
    first_end = EXAMPLE_BODY.index(b"400;")
    last = EXAMPLE_BODY.index(b"0;chunk-signature=" + EXAMPLE_SIGNATURES[2].encode())
    dropped = EXAMPLE_BODY[first_end:]
    assert refused(example(), dropped) == "SignatureDoesNotMatch"
    swapped = EXAMPLE_BODY[first_end:last] + EXAMPLE_BODY[:first_end] + EXAMPLE_BODY[last:]
    assert refused(example(), swapped) == "SignatureDoesNotMatch"


def test_a_body_that_stops_early_is_incomplete() -> None:
    assert refused(example(), EXAMPLE_BODY[:-2]) == "IncompleteBody"
    assert refused(example(), EXAMPLE_BODY[: 70000 - 4000]) == "IncompleteBody"


def test_the_last_piece_is_held_back_until_the_chain_checks_out() -> None:
    check = example().body_check(len(EXAMPLE_BODY))
    forwarded = check.feed(EXAMPLE_BODY[:40000]) + check.feed(EXAMPLE_BODY[40000:])
    assert len(forwarded) < 66560
    assert forwarded + check.finish() == b"a" * 66560


def test_a_chunk_size_line_and_a_chunk_are_bounded() -> None:
    assert refused(example(), b"1" * (MAX_LINE + 10)) == "IncompleteBody"
    assert refused(example(), f"{MAX_CHUNK + 1:x};chunk-signature={'0' * 64}\r\n".encode()) == "IncompleteBody"
    assert refused(example(), b"zz;chunk-signature=" + b"0" * 64 + b"\r\n") == "IncompleteBody"


def test_a_chunk_without_a_signature_is_refused_in_the_signed_mode() -> None:
    assert refused(example(), b"10000\r\n" + b"a" * 65536) == "SignatureDoesNotMatch"


def test_a_decoded_length_is_needed() -> None:
    raw = signed(
        "PUT",
        "/acme-raw/in/stream.bin",
        headers={"x-amz-content-sha256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", "Content-Encoding": "aws-chunked"},
    )
    with pytest.raises(S3Error) as caught:
        verify(raw.method, raw.path, raw.query, raw.headers, secrets(), SIGNED_AT).body_check(None)
    assert caught.value.code == "MissingContentLength"
    assert caught.value.status == 411


# Checksums: the catalogue's check values, and the trailer algorithms against their references.


def test_checksums_match_their_check_values() -> None:
    assert crc64nvme(b"123456789") == 0xAE8B14860A799888
    assert crc64nvme(b"6789", crc64nvme(b"12345")) == 0xAE8B14860A799888
    assert crc64nvme(b"") == 0
    values = {}
    for name in ALGORITHMS:
        checksum = new_checksum(name)
        checksum.update(b"12345")
        checksum.update(b"6789")
        values[name] = checksum.digest()
    assert values["x-amz-checksum-crc32"] == (0xCBF43926).to_bytes(4, "big")
    assert values["x-amz-checksum-crc32c"] == (0xE3069283).to_bytes(4, "big")
    assert values["x-amz-checksum-crc64nvme"] == (0xAE8B14860A799888).to_bytes(8, "big")
    assert values["x-amz-checksum-sha1"] == hashlib.sha1(b"123456789", usedforsecurity=False).digest()
    assert values["x-amz-checksum-sha256"] == hashlib.sha256(b"123456789").digest()


DATA = bytes(range(256)) * 300 + b"tail"


def reference(name: str, data: bytes) -> str:
    digests: dict[str, Callable[[bytes], bytes]] = {
        "x-amz-checksum-crc32": lambda d: zlib.crc32(d).to_bytes(4, "big"),
        "x-amz-checksum-crc32c": lambda d: google_crc32c.value(d).to_bytes(4, "big"),
        "x-amz-checksum-crc64nvme": lambda d: crc64nvme(d).to_bytes(8, "big"),
        "x-amz-checksum-sha1": lambda d: hashlib.sha1(d, usedforsecurity=False).digest(),
        "x-amz-checksum-sha256": lambda d: hashlib.sha256(d).digest(),
    }
    return base64.b64encode(digests[name](data)).decode()


def streaming(mode: str, trailer: str | None, body: bytes, decoded: int) -> Raw:
    headers = {
        "x-amz-content-sha256": mode,
        "Content-Encoding": "aws-chunked",
        "x-amz-decoded-content-length": str(decoded),
    }
    if trailer:
        headers["x-amz-trailer"] = trailer
    raw = signed("PUT", "/acme-raw/in/stream.bin", body=b"", headers=headers)
    return Raw(raw.method, raw.path, raw.query, raw.headers, body)


def verified_of(raw: Raw) -> VerifiedRequest:
    return verify(raw.method, raw.path, raw.query, raw.headers, secrets(), SIGNED_AT)


def signed_body(raw: Raw, data: bytes, chunk: int, trailer: tuple[str, str] | None = None) -> bytes:
    verified = verified_of(raw)
    return aws_chunked(
        data,
        chunk,
        key=verified.key,
        amz_date=verified.amz_date,
        scope=verified.scope,
        seed=verified.seed_signature,
        trailer=trailer,
    )


@pytest.mark.parametrize("algorithm", sorted(ALGORITHMS))
def test_unsigned_chunks_with_each_checksum_trailer(algorithm: str) -> None:
    raw = streaming("STREAMING-UNSIGNED-PAYLOAD-TRAILER", algorithm, b"", len(DATA))
    body = aws_chunked(DATA, 8192, trailer=(algorithm, reference(algorithm, DATA)))
    assert stream(verified_of(raw), body, 3000) == DATA
    wrong = aws_chunked(DATA, 8192, trailer=(algorithm, reference(algorithm, DATA + b"x")))
    assert refused(verified_of(raw), wrong) == "BadDigest"
    tampered = body.replace(b"tail", b"tale")
    assert refused(verified_of(raw), tampered) == "BadDigest"


@pytest.mark.parametrize("algorithm", sorted(ALGORITHMS))
def test_signed_chunks_with_each_signed_checksum_trailer(algorithm: str) -> None:
    raw = streaming("STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER", algorithm, b"", len(DATA))
    body = signed_body(raw, DATA, 16384, (algorithm, reference(algorithm, DATA)))
    assert stream(verified_of(raw), body, 5000) == DATA
    wrong = signed_body(raw, DATA, 16384, (algorithm, reference(algorithm, b"other")))
    assert refused(verified_of(raw), wrong) == "BadDigest"
    unsigned_trailer = body[: body.index(b"x-amz-trailer-signature")] + b"\r\n"
    assert refused(verified_of(raw), unsigned_trailer) == "SignatureDoesNotMatch"
    swapped_value = body.replace(reference(algorithm, DATA).encode(), reference(algorithm, b"other").encode())
    assert refused(verified_of(raw), swapped_value) == "SignatureDoesNotMatch"


@pytest.mark.parametrize(
    ("checksum_class", "name"), [(Crc32Checksum, "x-amz-checksum-crc32"), (Sha256Checksum, "x-amz-checksum-sha256")]
)
def test_botocore_aws_chunked_bodies_are_accepted(checksum_class: Any, name: str) -> None:
    body = AwsChunkedWrapper(io.BytesIO(DATA), checksum_cls=checksum_class, checksum_name=name, chunk_size=65536).read()
    raw = streaming("STREAMING-UNSIGNED-PAYLOAD-TRAILER", name, b"", len(DATA))
    assert stream(verified_of(raw), body, 65536) == DATA


def test_signed_chunks_without_trailer_from_a_botocore_signed_request() -> None:
    raw = streaming("STREAMING-AWS4-HMAC-SHA256-PAYLOAD", None, b"", len(DATA))
    body = signed_body(raw, DATA, 10000)
    assert stream(verified_of(raw), body, 777) == DATA
    other = streaming("STREAMING-AWS4-HMAC-SHA256-PAYLOAD", None, b"", len(DATA))
    assert other.header("Authorization") == raw.header("Authorization")
    foreign = aws_chunked(DATA, 10000, key=b"k" * 32, amz_date="20260524T120000Z", scope="x", seed="0" * 64)
    assert refused(verified_of(raw), foreign) == "SignatureDoesNotMatch"


def test_a_missing_or_unknown_trailer_is_refused() -> None:
    raw = streaming("STREAMING-UNSIGNED-PAYLOAD-TRAILER", "x-amz-checksum-md5", b"", len(DATA))
    assert refused(verified_of(raw), b"") == "InvalidRequest"
    raw = streaming("STREAMING-UNSIGNED-PAYLOAD-TRAILER", "x-amz-checksum-crc32", b"", len(DATA))
    no_trailer = aws_chunked(DATA, 8192) + b""
    assert refused(verified_of(raw), no_trailer) == "InvalidRequest"
    other = aws_chunked(DATA, 8192, trailer=("x-amz-checksum-sha1", reference("x-amz-checksum-sha1", DATA)))
    assert refused(verified_of(raw), other) == "InvalidRequest"


def test_a_decoded_length_that_differs_is_refused() -> None:
    raw = streaming("STREAMING-UNSIGNED-PAYLOAD-TRAILER", "x-amz-checksum-crc32", b"", len(DATA) - 1)
    body = aws_chunked(DATA, 8192, trailer=("x-amz-checksum-crc32", reference("x-amz-checksum-crc32", DATA)))
    assert refused(verified_of(raw), body) == "IncompleteBody"
    raw = streaming("STREAMING-UNSIGNED-PAYLOAD-TRAILER", "x-amz-checksum-crc32", b"", len(DATA) + 1)
    assert refused(verified_of(raw), body) == "IncompleteBody"


def test_bytes_after_the_end_are_refused() -> None:
    raw = streaming("STREAMING-UNSIGNED-PAYLOAD-TRAILER", "x-amz-checksum-crc32", b"", len(DATA))
    body = aws_chunked(DATA, 8192, trailer=("x-amz-checksum-crc32", reference("x-amz-checksum-crc32", DATA)))
    assert refused(verified_of(raw), body + b"extra") == "IncompleteBody"


def test_encoded_checksums_are_base64() -> None:
    checksum = new_checksum("x-amz-checksum-crc32")
    checksum.update(b"123456789")
    assert encoded(checksum) == base64.b64encode((0xCBF43926).to_bytes(4, "big")).decode()


# A generated corpus of hostile streaming bodies: every mode and trailer algorithm, each tampering.
MODES = [("STREAMING-AWS4-HMAC-SHA256-PAYLOAD", None)] + [
    (mode, algorithm)
    for mode in ("STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER", "STREAMING-UNSIGNED-PAYLOAD-TRAILER")
    for algorithm in sorted(ALGORITHMS)
]
CORPUS_DATA = bytes(range(251)) * 100
CHUNK = 8192


def encode(mode: str, algorithm: str | None, data: bytes, trailer_data: bytes | None = None) -> tuple[Raw, bytes]:
    raw = streaming(mode, algorithm, b"", len(CORPUS_DATA))
    trailer = (algorithm, reference(algorithm, data if trailer_data is None else trailer_data)) if algorithm else None
    if mode.startswith("STREAMING-UNSIGNED"):
        return raw, aws_chunked(data, CHUNK, trailer=trailer)
    return raw, signed_body(raw, data, CHUNK, trailer)


def flipped(body: bytes, at: int) -> bytes:
    changed = bytearray(body)
    changed[at] ^= 0x01
    return bytes(changed)


def tamperings(mode: str, algorithm: str | None) -> dict[str, tuple[bytes, str]]:
    signed_mode = not mode.startswith("STREAMING-UNSIGNED")
    _, body = encode(mode, algorithm, CORPUS_DATA)
    data_code = "SignatureDoesNotMatch" if signed_mode else "BadDigest"
    first_data = body.index(b"\r\n") + 2
    second = first_data + CHUNK + 2  # where the second chunk's size line starts
    third = body.index(b"\r\n", second) + 2 + CHUNK + 2
    cases = {
        "first-byte": (flipped(body, first_data), data_code),
        "middle-byte": (flipped(body, first_data + CHUNK // 2), data_code),
        "last-chunk-byte": (flipped(body, body.index(b"\r\n0") - 1), data_code),
        "truncated-in-data": (body[: first_data + 100], "IncompleteBody"),
        "truncated-before-end": (body[:-2], "IncompleteBody"),
        "bytes-after-end": (body + b"0\r\n\r\n", "IncompleteBody"),
        "long-size-line": (b"f" * (MAX_LINE + 1), "IncompleteBody"),
        "oversized-chunk": (f"{MAX_CHUNK + 1:x}\r\n".encode(), "IncompleteBody"),
        "short-chunk": (body.replace(b"\r\n2000", b"\r\n1fff", 1), "IncompleteBody"),
        "chunk-dropped": (body[:second] + body[third:], "SignatureDoesNotMatch" if signed_mode else "IncompleteBody"),
    }
    if signed_mode:
        signatures = [line.split(b"=")[1] for line in body.split(b"\r\n") if b"chunk-signature=" in line]
        for index in (0, len(signatures) // 2, len(signatures) - 1):
            cases[f"broken-signature-{index}"] = (
                body.replace(signatures[index], b"0" * 64, 1),
                "SignatureDoesNotMatch",
            )
        cases["unsigned-chunk"] = (body.replace(b";chunk-signature=" + signatures[0], b"", 1), "SignatureDoesNotMatch")
    if algorithm:
        _, wrong = encode(mode, algorithm, CORPUS_DATA, trailer_data=CORPUS_DATA[:-1])
        cases["wrong-trailer"] = (wrong, "BadDigest")
        cases["missing-trailer"] = (body[: body.index(algorithm.encode())] + b"\r\n", "InvalidRequest")
        if signed_mode:
            cases["trailer-signature-dropped"] = (
                body[: body.index(b"x-amz-trailer-signature")] + b"\r\n",
                "SignatureDoesNotMatch",
            )
    return cases


STREAMING_CORPUS = [
    (f"{mode}-{algorithm or 'none'}-{name}", mode, algorithm, name)
    for mode, algorithm in MODES
    for name in tamperings(mode, algorithm)
]


def test_the_streaming_corpus_is_large() -> None:
    assert len(STREAMING_CORPUS) >= 150


@pytest.mark.parametrize(("mode", "algorithm"), MODES)
def test_every_streaming_mode_accepts_its_own_body(mode: str, algorithm: str | None) -> None:
    raw, body = encode(mode, algorithm, CORPUS_DATA)
    assert stream(verified_of(raw), body, 4099) == CORPUS_DATA


@pytest.mark.parametrize(
    ("mode", "algorithm", "name"), [c[1:] for c in STREAMING_CORPUS], ids=[c[0] for c in STREAMING_CORPUS]
)
def test_every_hostile_streaming_body_is_refused(mode: str, algorithm: str | None, name: str) -> None:
    raw, _ = encode(mode, algorithm, CORPUS_DATA)
    body, code = tamperings(mode, algorithm)[name]
    assert refused(verified_of(raw), body, 3001) == code
