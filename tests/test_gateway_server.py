"""The S3 gateway end to end: boto3 with a Spaceport access key, the gateway on a loopback port,
and ``rclone serve s3`` as the organization's S3-compatible store."""

from __future__ import annotations

import base64
import hashlib
import io
import time
import urllib.request
import zlib
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
import requests
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from accessgrants.accesskeys import deactivate_key
from connections.active import make_active
from portal.core import snapshots
from portal.tenancy.grants import Grant, Role
from portal.tenancy.models import Space
from tests.emulators import RcloneS3
from tests.gateway_live import code_of, s3_for
from tests.gateway_signing import aws_chunked, signed
from tests.test_provider_s3compat import connect_new_bucket

pytestmark = pytest.mark.django_db(transaction=True)


def made_elsewhere(change: Callable[[], object]) -> None:
    """Make ``change`` as another process would: the gateway's pinned access snapshot version stays
    where it was (a process pins its own changes at once), so only its polling can find the new one."""
    before = snapshots.pinned_version()
    assert before is not None, "the gateway pins the version it polls"
    change()
    snapshots.pin_version(before)


def deleting_within(s3: Any, bucket: str, key: str, seconds: float = 5) -> None:
    """Delete, retrying while a grant just given is not yet felt (at most ``seconds``)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            s3.delete_object(Bucket=bucket, Key=key)
            return
        except ClientError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_health_needs_no_signature(gateway_url: str) -> None:
    with urllib.request.urlopen(f"{gateway_url}/healthz") as answer:
        assert answer.read() == b"ok"


def test_objects_round_trip(gateway_url: str, world: dict[str, Any], rclone_s3: RcloneS3) -> None:
    s3 = s3_for(gateway_url, world["key"])
    names = [bucket["Name"] for bucket in s3.list_buckets()["Buckets"]]
    assert {"acme-raw", "acme-ref"} <= set(names)
    assert not [name for name in names if not name.startswith("acme-")]

    s3.put_object(Bucket="acme-raw", Key="run-1/a.csv", Body=b"a,b\n1,2\n", ContentType="text/csv", Metadata={"k": "v"})
    s3.put_object(Bucket="acme-raw", Key="run-1/deep/b.txt", Body=b"b" * 70000)
    s3.put_object(Bucket="acme-raw", Key="top.txt", Body=b"top")
    stored = list(rclone_s3.root.glob("*/raw/run-1/a.csv"))
    assert len(stored) == 1 and stored[0].read_bytes() == b"a,b\n1,2\n"

    got = s3.get_object(Bucket="acme-raw", Key="run-1/a.csv")
    assert got["Body"].read() == b"a,b\n1,2\n"
    assert got["ContentType"] == "text/csv"
    assert got["Metadata"] == {"k": "v"}
    ranged = s3.get_object(Bucket="acme-raw", Key="run-1/deep/b.txt", Range="bytes=10-19")
    assert ranged["Body"].read() == b"b" * 10
    assert ranged["ContentRange"] == "bytes 10-19/70000"
    assert s3.head_object(Bucket="acme-raw", Key="run-1/deep/b.txt")["ContentLength"] == 70000

    listed = s3.list_objects_v2(Bucket="acme-raw", Prefix="run-1/", Delimiter="/")
    assert [item["Key"] for item in listed["Contents"]] == ["run-1/a.csv"]
    assert [item["Prefix"] for item in listed["CommonPrefixes"]] == ["run-1/deep/"]
    assert listed["Name"] == "acme-raw" and listed["Prefix"] == "run-1/"
    everything = s3.list_objects_v2(Bucket="acme-raw")
    assert [item["Key"] for item in everything["Contents"]] == ["run-1/a.csv", "run-1/deep/b.txt", "top.txt"]

    with pytest.raises(ClientError) as supplier:
        s3.delete_object(Bucket="acme-raw", Key="top.txt")
    assert code_of(supplier.value) == "AccessDenied"
    raw = Space.objects.get(organization__name="acme", name="raw")
    Grant.objects.filter(space=raw, role=Role.SUPPLIER).update(role=Role.TRUSTEE)
    deleting_within(s3, "acme-raw", "top.txt")
    with pytest.raises(ClientError) as gone:
        s3.head_object(Bucket="acme-raw", Key="top.txt")
    assert gone.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    with pytest.raises(ClientError) as missing:
        s3.get_object(Bucket="acme-raw", Key="top.txt")
    assert code_of(missing.value) == "NoSuchKey"


def test_refusals(gateway_url: str, world: dict[str, Any], caplog: pytest.LogCaptureFixture) -> None:
    s3 = s3_for(gateway_url, world["key"])
    with pytest.raises(ClientError) as read_only:
        s3.put_object(Bucket="acme-ref", Key="x.txt", Body=b"x")
    assert code_of(read_only.value) == "AccessDenied"
    request_id = read_only.value.response["ResponseMetadata"]["RequestId"]
    assert request_id and request_id in caplog.text
    assert s3.list_objects_v2(Bucket="acme-ref").get("Contents", []) == []

    for bucket in ("globex-raw", "nosuch-bucket"):
        with pytest.raises(ClientError) as elsewhere:
            s3.get_object(Bucket=bucket, Key="a.csv")
        assert code_of(elsewhere.value) == "NoSuchBucket"

    with pytest.raises(ClientError) as unsupported:
        s3.get_object_acl(Bucket="acme-raw", Key="big")
    assert code_of(unsupported.value) == "NotImplemented"

    wrong = s3_for(gateway_url, world["key"])
    wrong._request_signer._credentials.secret_key = "not-the-secret"
    with pytest.raises(ClientError) as forged:
        wrong.list_buckets()
    assert code_of(forged.value) == "SignatureDoesNotMatch"


def test_revoking_the_grant_is_felt_within_five_seconds(gateway_url: str, world: dict[str, Any]) -> None:
    s3 = s3_for(gateway_url, world["key"])
    s3.put_object(Bucket="acme-raw", Key="a.txt", Body=b"a")
    made_elsewhere(lambda: Grant.objects.filter(space__name="raw", role=Role.SUPPLIER).delete())
    deadline = time.monotonic() + 5
    while True:
        try:
            s3.get_object(Bucket="acme-raw", Key="a.txt")
        except ClientError as refused:
            assert code_of(refused) == "AccessDenied"
            break
        assert time.monotonic() < deadline, "the revoked grant still allows reading after 5 s"
        time.sleep(0.2)


def refused_within(attempt: Any, *codes: str, seconds: float = 5) -> None:
    """Repeat ``attempt`` until it is refused with one of ``codes``; fail when it still succeeds after ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            attempt()
        except ClientError as refused:
            assert code_of(refused) in codes
            return
        assert time.monotonic() < deadline, f"still allowed after {seconds} s"
        time.sleep(0.2)


def test_deactivating_the_key_is_felt_within_five_seconds(gateway_url: str, world: dict[str, Any]) -> None:
    s3 = s3_for(gateway_url, world["key"])
    s3.put_object(Bucket="acme-raw", Key="a.txt", Body=b"a")
    made_elsewhere(lambda: deactivate_key(world["key"].key.pk))
    # A request checked as the version changes may pass its signature check and be refused its access.
    refused_within(lambda: s3.get_object(Bucket="acme-raw", Key="a.txt"), "InvalidAccessKeyId", "AccessDenied")


def test_changing_the_connection_is_felt_within_five_seconds(
    gateway_url: str, world: dict[str, Any], organization: Any, rclone_s3: RcloneS3
) -> None:
    s3 = s3_for(gateway_url, world["key"])
    s3.put_object(Bucket="acme-raw", Key="a.txt", Body=b"in the first bucket")
    assert s3.get_object(Bucket="acme-raw", Key="a.txt")["Body"].read() == b"in the first bucket"
    made_elsewhere(lambda: make_active(connect_new_bucket(organization, rclone_s3)))
    refused_within(lambda: s3.get_object(Bucket="acme-raw", Key="a.txt"), "NoSuchKey")
    s3.put_object(Bucket="acme-raw", Key="b.txt", Body=b"in the second bucket")
    assert len(list(rclone_s3.root.glob("*/raw/b.txt"))) == 1


def test_a_large_body_streams_and_a_presigned_url_reads_it(gateway_url: str, world: dict[str, Any]) -> None:
    s3 = s3_for(gateway_url, world["key"])
    body = bytes(range(256)) * 4096 * 5  # 5 MiB
    s3.upload_fileobj(io.BytesIO(body), "acme-raw", "big.bin")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": "acme-raw", "Key": "big.bin"}, ExpiresIn=60)
    with urllib.request.urlopen(url) as answer:
        assert answer.read() == body


class SignsForGood(S3SigV4Auth):
    """Signs the digest of ``good`` whatever body the request carries."""

    def payload(self, request: Any) -> str:
        return hashlib.sha256(b"good").hexdigest()


def test_a_body_that_is_not_the_signed_one_is_not_stored(
    gateway_url: str, world: dict[str, Any], rclone_s3: RcloneS3
) -> None:
    issued = world["key"]
    url = f"{gateway_url}/acme-raw/forged.txt"
    request = AWSRequest(
        method="PUT",
        url=url,
        data=b"evil",
        headers={"X-Amz-Content-SHA256": hashlib.sha256(b"good").hexdigest(), "Content-Length": "4"},
    )
    SignsForGood(Credentials(issued.key.access_key_id, issued.secret_key), "s3", "us-east-1").add_auth(request)
    answer = requests.put(url, data=b"evil", headers=dict(request.headers.items()), timeout=10)
    assert answer.status_code == 400
    assert b"XAmzContentSHA256Mismatch" in answer.content
    assert list(rclone_s3.root.glob("*/raw/forged.txt")) == []


def test_the_store_is_reached_only_through_the_address_policy(
    gateway_url: str, world: dict[str, Any], settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    settings.SPACEPORT_ALLOWED_PRIVATE_NETWORKS = []
    s3 = s3_for(gateway_url, world["key"])
    with pytest.raises(ClientError) as refused:
        s3.get_object(Bucket="acme-raw", Key="a.csv")
    assert code_of(refused.value) == "ServiceUnavailable"
    with pytest.raises(ClientError) as listing:
        s3.list_objects_v2(Bucket="acme-raw")
    assert code_of(listing.value) == "ServiceUnavailable"
    assert "refused by the address policy" in caplog.text


def test_virtual_host_style_names_the_bucket_in_the_host(
    gateway_url: str, world: dict[str, Any], settings: Any
) -> None:
    settings.SPACEPORT_S3_GATEWAY_DOMAIN = "s3.example.test"
    s3_for(gateway_url, world["key"]).put_object(Bucket="acme-raw", Key="dir/v.txt", Body=b"virtual")
    issued = world["key"]
    port = gateway_url.rsplit(":", 1)[1]
    url = f"http://acme-raw.s3.example.test:{port}/dir/v.txt"
    request = AWSRequest(method="GET", url=url, headers={})
    S3SigV4Auth(Credentials(issued.key.access_key_id, issued.secret_key), "s3", "us-east-1").add_auth(request)
    headers = {**dict(request.headers.items()), "Host": f"acme-raw.s3.example.test:{port}"}
    answer = requests.get(f"{gateway_url}/dir/v.txt", headers=headers, timeout=10)
    assert answer.status_code == 200, answer.text
    assert answer.content == b"virtual"


def test_an_aws_chunked_upload_is_decoded_on_its_way_to_the_store(
    gateway_url: str, world: dict[str, Any], rclone_s3: RcloneS3
) -> None:
    issued = world["key"]
    data = b"chunked data " * 20000
    crc = base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()
    body = aws_chunked(data, 64 * 1024, trailer=("x-amz-checksum-crc32", crc))
    headers = {
        "x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
        "x-amz-trailer": "x-amz-checksum-crc32",
        "x-amz-decoded-content-length": str(len(data)),
        "content-encoding": "aws-chunked",
        "content-length": str(len(body)),
    }
    raw = signed(
        "PUT",
        "/acme-raw/chunked.bin",
        body=body,
        headers=headers,
        key_id=issued.key.access_key_id,
        secret=issued.secret_key,
        at=datetime.now(UTC),
    )
    answer = requests.put(f"{gateway_url}{raw.path}", data=raw.body, headers=dict(raw.headers), timeout=30)
    assert answer.status_code == 200, answer.text
    stored = list(rclone_s3.root.glob("*/raw/chunked.bin"))
    assert len(stored) == 1 and stored[0].read_bytes() == data
