"""The defects measured in object-storage-proxy, the S3 proxy our users run today (reference README,
``../shared/reference/``), each proven absent from Spaceport's gateway end to end: requests go to a
live gateway on a loopback port in front of ``rclone serve s3``, and the store's folder is read to
see what was (not) written.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.gateway_live import code_of
from tests.gateway_signing import Raw
from tests.gateway_world import (  # noqa: F401
    ACME_OBJECTS,
    CHECKSUM_TRAILERS,
    STREAMING_SIGNED,
    STREAMING_SIGNED_TRAILER,
    STREAMING_UNSIGNED_TRAILER,
    Answer,
    GatewayWorld,
    send,
    streaming_put,
    world_fixture,
)

pytestmark = pytest.mark.django_db(transaction=True)

BODY = b"written through the gateway\n" * 100
COMPLETE = b"<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>x</ETag></Part></CompleteMultipartUpload>"
WRITES = {
    "PutObject": ("PUT", "/acme-raw/in/existing.csv", "", BODY),
    "UploadPart": ("PUT", "/acme-raw/in/big.bin", "partNumber=1&uploadId=abc123", BODY),
    "CompleteMultipartUpload": ("POST", "/acme-raw/in/big.bin", "uploadId=abc123", COMPLETE),
}


def refused(answer: Answer, code: str, status: int) -> None:
    """``answer`` is the S3 error ``code`` with ``status``, and the body was never asked for."""
    assert (answer.status, answer.error()[0]) == (status, code), answer.body
    assert not answer.continued


def test_a_write_with_a_wrong_secret_is_refused_and_not_stored(world: GatewayWorld) -> None:
    """Defect: "PutObject, UploadPart and CompleteMultipartUpload are accepted with a wrong secret
    [...] and written upstream" (object-storage-proxy 0.6.12, signature validation on)."""
    before = world.snapshot()
    for method, path, query, body in WRITES.values():
        raw = world.sign(method, path, query, body, secret="not-the-secret")
        refused(send(world, raw), "SignatureDoesNotMatch", 403)
    assert world.snapshot() == before


def test_a_write_with_an_unknown_access_key_is_refused_and_not_stored(world: GatewayWorld) -> None:
    """Defect: the same writes "are accepted with [...] an unknown access key and written upstream"."""
    before = world.snapshot()
    for method, path, query, body in WRITES.values():
        raw = world.sign(method, path, query, body, key_id="SPKNOBODYHASTHISKEY0", secret="made-up")
        refused(send(world, raw), "InvalidAccessKeyId", 403)
    assert world.snapshot() == before


def test_signatures_are_checked_when_nothing_grants_access(world: GatewayWorld) -> None:
    """Defect: object-storage-proxy "skips signature checks when no validator is configured". The
    gateway has no switch that turns checks off: for a key whose owner holds no grant and no policy
    on the space (nothing configured to authorize it), a wrong signature is still a wrong signature,
    an unsigned request is still refused, and a correct one is then refused by authorization."""
    path = "/acme-raw/in/existing.csv"
    refused(send(world, world.sign("GET", path, key="stranger", secret="wrong")), "SignatureDoesNotMatch", 403)
    refused(send(world, world.sign("GET", path, key="stranger").without_header("Authorization")), "AccessDenied", 403)
    refused(send(world, world.sign("GET", path, key="stranger")), "AccessDenied", 403)


def test_an_upload_id_in_the_query_skips_no_check(world: GatewayWorld) -> None:
    """Defect: object-storage-proxy skips signature checks "for any query containing ``uploadId=``"."""
    before = world.snapshot()
    for query in ("partNumber=1&uploadId=abc123", "uploadId=abc123", "uploadId=", "x=uploadId%3D1&uploadId=2"):
        wrong = world.sign("PUT", "/acme-raw/in/part.bin", query, BODY, secret="not-the-secret")
        refused(send(world, wrong), "SignatureDoesNotMatch", 403)
        refused(send(world, wrong.without_header("Authorization")), "AccessDenied", 403)
        stale = world.sign("PUT", "/acme-raw/in/part.bin", query, BODY, at=datetime.now(UTC) - timedelta(hours=1))
        refused(send(world, stale), "RequestTimeTooSkewed", 403)
    assert world.snapshot() == before


def test_expect_100_continue_skips_no_check_and_the_body_is_asked_for_only_after_them(world: GatewayWorld) -> None:
    """Defect: object-storage-proxy skips signature checks "for ``Expect: 100-continue``". Here the
    refusal comes while the client still holds its body back; only a request that passed every
    check is told to send it."""
    before = world.snapshot()
    expect = ("Expect", "100-continue")
    path = "/acme-raw/in/expected.csv"
    wrong = world.sign("PUT", path, body=BODY, secret="not-the-secret").with_header(*expect)
    refused(send(world, wrong), "SignatureDoesNotMatch", 403)
    refused(send(world, wrong.without_header("Authorization")), "AccessDenied", 403)
    part = world.sign("PUT", path, "partNumber=1&uploadId=x", BODY, secret="not-the-secret").with_header(*expect)
    refused(send(world, part), "SignatureDoesNotMatch", 403)
    read_only = world.sign("PUT", "/acme-ref/expected.csv", body=BODY).with_header(*expect)
    refused(send(world, read_only), "AccessDenied", 403)
    assert world.snapshot() == before

    accepted = send(world, world.sign("PUT", path, body=BODY).with_header(*expect))
    assert (accepted.status, accepted.continued) == (200, True)
    assert world.stored(world.acme_bucket, "raw/in/expected.csv") == BODY


def test_a_presigned_url_expires(world: GatewayWorld) -> None:
    """Defect: object-storage-proxy "never checks ``X-Amz-Expires``". A presigned URL works until
    it expires and not a second after, and one may not be made for longer than seven days."""
    url = world.presign("GET", "/acme-raw/in/existing.csv", expires=2)
    assert send(world, url).body == ACME_OBJECTS["raw/in/existing.csv"]
    time.sleep(3.1)
    refused(send(world, url), "AccessDenied", 403)
    over = world.presign("GET", "/acme-raw/in/existing.csv", expires=7 * 86400 + 1)
    refused(send(world, over), "AuthorizationQueryParametersError", 400)
    made_long_ago = world.presign(
        "GET", "/acme-raw/in/existing.csv", expires=3600, at=datetime.now(UTC) - timedelta(hours=2)
    )
    refused(send(world, made_long_ago), "AccessDenied", 403)


def test_a_captured_request_cannot_be_replayed_later(world: GatewayWorld) -> None:
    """Defect: object-storage-proxy never checks "the request time (no replay protection)"; "a
    header-signed request can be replayed". A request is good for 15 minutes around its
    ``X-Amz-Date``: the same write captured 16 minutes ago, or a day ago, is refused."""
    before = world.snapshot()
    for moment in (datetime.now(UTC) - timedelta(minutes=16), datetime.now(UTC) - timedelta(days=1)):
        for method, path, query, body in WRITES.values():
            refused(send(world, world.sign(method, path, query, body, at=moment)), "RequestTimeTooSkewed", 403)
    refused(
        send(world, world.sign("GET", "/", at=datetime.now(UTC) + timedelta(minutes=16))), "RequestTimeTooSkewed", 403
    )
    assert world.snapshot() == before


def test_signatures_are_compared_in_constant_time(world: GatewayWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    """Defect: object-storage-proxy "compares signatures with ``==``", whose time leaks how many
    leading characters of a guess are right. Every signature the gateway receives (the request's,
    each chunk's) reaches ``hmac.compare_digest``."""
    compared: list[bytes] = []
    constant_time = hmac.compare_digest

    def watched(a: Any, b: Any) -> bool:
        compared.extend(x if isinstance(x, bytes) else str(x).encode() for x in (a, b))
        return constant_time(a, b)

    monkeypatch.setattr(hmac, "compare_digest", watched)
    raw = world.sign("GET", "/acme-raw/in/existing.csv", secret="not-the-secret")
    refused(send(world, raw), "SignatureDoesNotMatch", 403)
    assert raw.header("Authorization").rpartition("Signature=")[2].encode() in compared

    streaming = streaming_put(world, "/acme-raw/in/chunks.bin", BODY, STREAMING_SIGNED, chunk_size=1000)
    streaming.signatures[1] = "0" * 64
    refused(send(world, streaming.request()), "SignatureDoesNotMatch", 403)
    assert b"0" * 64 in compared


def test_backend_access_is_decided_per_caller_not_per_bucket(world: GatewayWorld) -> None:
    """Defect: object-storage-proxy "caches backend credentials per bucket, not per caller", so
    whoever asks for a bucket right after an allowed caller rides on that caller's access. Here the
    allowed read comes first, then callers without a grant ask for the same bucket at once; and two
    organizations' spaces of one name each reach their own organization's store."""
    member = world.client()
    assert (
        member.get_object(Bucket="acme-raw", Key="in/existing.csv")["Body"].read()
        == ACME_OBJECTS["raw/in/existing.csv"]
    )
    with pytest.raises(ClientError) as stranger:
        world.client("stranger").get_object(Bucket="acme-raw", Key="in/existing.csv")
    assert code_of(stranger.value) == "AccessDenied"
    with pytest.raises(ClientError) as other_organization:
        world.client("globex").get_object(Bucket="acme-raw", Key="in/existing.csv")
    assert code_of(other_organization.value) == "NoSuchBucket"

    member.put_object(Bucket="acme-raw", Key="same.txt", Body=b"acme's")
    world.client("globex").put_object(Bucket="globex-raw", Key="same.txt", Body=b"globex's")
    assert world.stored(world.acme_bucket, "raw/same.txt") == b"acme's"
    assert world.stored(world.globex_bucket, "raw/same.txt") == b"globex's"
    assert member.get_object(Bucket="acme-raw", Key="same.txt")["Body"].read() == b"acme's"


def test_content_type_and_metadata_survive_re_signing(world: GatewayWorld) -> None:
    """Defect: object-storage-proxy "drops headers such as [...] ``x-amz-meta-*`` and
    ``content-type`` when it re-signs". The store itself (asked with its own key) holds them, and a
    wrong ``Content-MD5`` reaches the store, which refuses the body."""
    member = world.client()
    member.put_object(
        Bucket="acme-raw",
        Key="in/typed.csv",
        Body=b"a,b\n",
        ContentType="text/csv",
        Metadata={"run": "7", "instrument": "spectrometer"},
        ContentDisposition="attachment",
    )
    upstream = world.store.client().head_object(Bucket=world.acme_bucket, Key="raw/in/typed.csv")
    assert upstream["ContentType"] == "text/csv"
    # rclone answers metadata names capitalised; S3 metadata names are case-insensitive.
    assert {name.lower(): value for name, value in upstream["Metadata"].items()} == {
        "run": "7",
        "instrument": "spectrometer",
    }
    got = member.get_object(Bucket="acme-raw", Key="in/typed.csv")
    assert got["ContentType"] == "text/csv"
    assert {name.lower(): value for name, value in got["Metadata"].items()}["instrument"] == "spectrometer"

    wrong_md5 = base64.b64encode(hashlib.md5(b"other").digest()).decode()  # noqa: S324 - Content-MD5 is MD5
    with pytest.raises(ClientError) as digest:
        member.put_object(Bucket="acme-raw", Key="in/md5.csv", Body=b"a,b\n", ContentMD5=wrong_md5)
    assert code_of(digest.value) in ("BadDigest", "InvalidDigest")
    assert world.stored(world.acme_bucket, "raw/in/md5.csv") is None


def test_the_copy_source_survives_re_signing(world: GatewayWorld) -> None:
    """Defect: object-storage-proxy "drops headers such as ``x-amz-copy-source``" when it re-signs,
    so a copy becomes an empty PUT. The copy holds the source's bytes."""
    world.client().copy_object(Bucket="acme-raw", Key="in/copied.csv", CopySource="acme-raw/in/existing.csv")
    assert world.stored(world.acme_bucket, "raw/in/copied.csv") == ACME_OBJECTS["raw/in/existing.csv"]


def test_aws_chunked_uploads_are_stored_decoded(world: GatewayWorld) -> None:
    """Defect: in object-storage-proxy "aws-chunked (streaming) uploads fail". Each streaming mode
    SDKs use, with each checksum trailer, is stored as the bytes the client meant."""
    modes = [(STREAMING_SIGNED, None)]
    modes += [
        (mode, trailer)
        for mode in (STREAMING_SIGNED_TRAILER, STREAMING_UNSIGNED_TRAILER)
        for trailer in CHECKSUM_TRAILERS
    ]
    for number, (mode, trailer) in enumerate(modes):
        data = bytes(range(256)) * 1000 + str(number).encode()
        answer = send(world, streaming_put(world, "/acme-raw/in/streamed.bin", data, mode, trailer=trailer).request())
        assert answer.status == 200, (mode, trailer, answer.body)
        assert world.stored(world.acme_bucket, "raw/in/streamed.bin") == data, (mode, trailer)


def test_boto3_uploads_with_its_default_checksums(world: GatewayWorld) -> None:
    """The same defect, with the client users have: boto3's current release computes a checksum for
    every upload (in a trailer where it streams); each algorithm's upload is stored as sent (CRC32C
    and CRC64NVME need botocore's optional CRT, which is not installed; the trailer tests above
    cover them)."""
    member = world.client(request_checksum_calculation="when_supported")
    for algorithm in ("CRC32", "SHA1", "SHA256"):
        data = algorithm.encode() * 5000
        member.put_object(Bucket="acme-raw", Key=f"in/{algorithm}.bin", Body=data, ChecksumAlgorithm=algorithm)
        assert world.stored(world.acme_bucket, f"raw/in/{algorithm}.bin") == data


def test_the_payload_hash_is_checked_against_the_body(world: GatewayWorld) -> None:
    """Defect: "neither [object-storage-proxy] nor its upstream checks the payload hash against the
    body". A body that is not the one whose SHA-256 was signed is refused, a new key does not
    appear, and an object it would have replaced keeps its bytes."""
    big = bytes(range(256)) * 4000  # read in several pieces, the first ones already forwarded
    for path in ("/acme-raw/in/existing.csv", "/acme-raw/in/forged.bin"):
        raw = world.sign("PUT", path, body=big)
        forged = Raw(raw.method, raw.path, raw.query, raw.without_header("Content-Length").headers, big[:-1] + b"!")
        answer = send(world, forged)
        assert (answer.status, answer.error()[0]) == (400, "XAmzContentSHA256Mismatch")
    assert world.stored(world.acme_bucket, "raw/in/existing.csv") == ACME_OBJECTS["raw/in/existing.csv"]
    assert world.stored(world.acme_bucket, "raw/in/forged.bin") is None
