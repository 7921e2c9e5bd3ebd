"""Direct CopyObject requests (``connections.providers.s3.direct``) against stores that check SigV4.

``rclone serve s3`` and moto's server (started with authentication on) verify every signature,
so a copy that lands proves the direct request was signed right, session token included for an
assumed role. botocore's own operations are counted with its ``before-call`` hook; a direct
request never passes there.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import botocore.auth
import pytest
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from connections.providers.base import Location, StorageError, StoredObject
from connections.providers.registry import client_for, location_for
from connections.providers.s3 import client as s3client
from connections.providers.s3.direct import BucketRoute, clean_answer, proxied, route_of, signed_headers
from connections.providers.s3compat import client as s3compat
from portal.tenancy.models import LOADINGZONE
from tests.emulators import MotoServer, RcloneS3
from tests.test_provider_aws import bucket, clock, cross_account, keys_connection, principal, sts_at_moto  # noqa: F401
from tests.test_provider_ibm import api_key_client, cos, iam  # noqa: F401
from tests.test_provider_s3compat import connect_new_bucket

OBJECTS = {
    "2024/run-7/Übersicht ✓.csv": "x,y\nÜ,✓\n".encode(),
    "with space/and+plus%percent.txt": b"spaced",
    "empty.bin": b"",
    "deep/a/b/c/d.json": b'{"n": 1}',
    "tilde~and(brackets)*.bin": b"\x00\x01",
}
VIRTUAL_HOST = "bucket.s3.eu-west-1.amazonaws.com"
SIGNED_FOR = "AWS4-HMAC-SHA256 Credential=AKID/20261123/eu-west-1/s3/aws4_request"


def botocore_operations(client: s3client.S3Client) -> list[str]:
    names: list[str] = []
    client.s3.meta.events.register("before-call.s3", lambda model, **_: names.append(model.name))
    return names


def listed(client: s3client.S3Client, location: Location, key: str) -> StoredObject:
    """The source as a commit's plan sees it: from the listing, not from a HEAD."""
    found = [item for item in client.list_objects(location, key) if item.key == location.key(key)]
    assert len(found) == 1
    return found[0]


def commit_copies(client: s3client.S3Client) -> list[str]:
    """Copy every object the way a commit does (``expected`` from the listing); botocore's operations."""
    source, target = location_for(client.connection, LOADINGZONE), location_for(client.connection, "raw")
    for key, body in OBJECTS.items():
        client.put_object(source, key, body)
    plans = {key: listed(client, source, key) for key in OBJECTS}
    operations = botocore_operations(client)
    for key, body in OBJECTS.items():
        copied = client.copy_object(source, key, target, key, expected=plans[key])
        assert (copied.size, copied.checksum) == (len(body), f"md5:{hashlib.md5(body).hexdigest()}")  # noqa: S324
    sent = list(operations)
    for key, body in OBJECTS.items():
        assert client.get_object(target, key) == body
    return sent


@pytest.fixture
def rclone_store(organization: Any, rclone_s3: RcloneS3) -> s3client.S3Client:
    return s3compat.build_client(connect_new_bucket(organization, rclone_s3))


@pytest.fixture(params=["rclone", "moto keys", "moto role"])
def signing_client(request: pytest.FixtureRequest, organization: Any) -> s3client.S3Client:
    if request.param == "rclone":
        client = request.getfixturevalue("rclone_store")
    elif request.param == "moto keys":
        moto: MotoServer = request.getfixturevalue("moto_server")
        client = client_for(keys_connection(organization, moto, request.getfixturevalue("bucket"), moto.admin))
    else:
        client = request.getfixturevalue("cross_account")
    assert isinstance(client, s3client.S3Client)
    return client


def test_after_one_botocore_copy_the_rest_go_direct(signing_client: s3client.S3Client) -> None:
    operations = commit_copies(signing_client)

    assert operations == ["CopyObject"], "botocore shows the way once; every later copy is direct"
    assert signing_client.direct is not None and signing_client.direct.knows(signing_client.config["bucket"])


def test_a_direct_copy_keeps_content_type_and_metadata(rclone_s3: RcloneS3, rclone_store: s3client.S3Client) -> None:
    client = rclone_store
    source, target = location_for(client.connection, LOADINGZONE), location_for(client.connection, "raw")
    admin = rclone_s3.client()
    for name in ("first.csv", "second.csv"):
        admin.put_object(
            Bucket=source.bucket, Key=source.key(name), Body=b"1,2\n", ContentType="text/csv", Metadata={"run": "7"}
        )
        client.copy_object(source, name, target, name, expected=listed(client, source, name))

    assert client.direct is not None and client.direct.knows(target.bucket)
    head = admin.head_object(Bucket=target.bucket, Key=target.key("second.csv"))
    assert head["ContentType"] == "text/csv"
    assert {name.lower(): value for name, value in head["Metadata"].items()}.get("run") == "7"


def test_a_direct_copy_of_a_missing_source_is_explained_by_botocore(rclone_store: s3client.S3Client) -> None:
    client = rclone_store
    commit_copies(client)
    source, target = location_for(client.connection, LOADINGZONE), location_for(client.connection, "raw")
    gone = StoredObject(key=source.key("gone.csv"), size=4, etag="0" * 32, checksum="md5:" + "0" * 32)
    operations = botocore_operations(client)

    with pytest.raises(StorageError) as raised:
        client.copy_object(source, "gone.csv", target, "gone.csv", expected=gone)

    assert raised.value.code == "not_found"
    assert operations == ["CopyObject"], "the direct request failed, botocore asked again and explained"


def test_direct_copies_the_store_refuses_stop_after_a_few_strikes(
    rclone_s3: RcloneS3, rclone_store: s3client.S3Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Direct requests signed with a wrong secret get SignatureDoesNotMatch; botocore's succeed."""
    client = rclone_store
    assert client.direct is not None
    wrong = Credentials(rclone_s3.key.access_key_id, "not-the-secret").get_frozen_credentials
    monkeypatch.setattr(client.direct, "_credentials", wrong)
    direct_answers: list[object] = []
    plain_copy = client.direct.copy

    def counted(*args: Any) -> object:
        direct_answers.append(plain_copy(*args))
        return direct_answers[-1]

    monkeypatch.setattr(client.direct, "copy", counted)

    operations = commit_copies(client)

    assert direct_answers == [None] * s3client.DIRECT_STRIKES
    assert operations == ["CopyObject"] * len(OBJECTS), "every copy still landed, through botocore"


def test_bearer_token_clients_never_copy_directly(organization: Any, iam: Any, cos: Any) -> None:  # noqa: F811
    assert api_key_client(organization, iam, cos).direct is None


@pytest.mark.parametrize(
    ("url", "key", "expected"),
    [
        ("http://127.0.0.1:9000/bucket/raw/a%20b/%C3%BC.csv", "raw/a b/ü.csv", ("127.0.0.1", 9000, "/bucket")),
        (
            "https://bucket.s3.eu-west-1.amazonaws.com/raw/x~y.csv",
            "raw/x~y.csv",
            ("bucket.s3.eu-west-1.amazonaws.com", None, ""),
        ),
    ],
)
def test_the_route_is_what_botocore_addressed(url: str, key: str, expected: tuple[str, int | None, str]) -> None:
    authorization = (
        "AWS4-HMAC-SHA256 Credential=AKID/20261123/eu-west-1/s3/aws4_request, SignedHeaders=host, Signature=0"
    )

    route = route_of(url, authorization, key)

    assert route is not None
    assert (route.host, route.port, route.prefix) == expected
    assert (route.region, route.service) == ("eu-west-1", "s3")


@pytest.mark.parametrize(
    ("url", "authorization"),
    [
        ("http://cos.example/bucket/raw/a.csv", "bearer eyJ0"),
        ("http://cos.example/bucket/raw/a.csv", "AWS AKID:signature"),
        ("http://cos.example/bucket/raw/other.csv", "AWS4-HMAC-SHA256 Credential=A/20261123/r/s3/aws4_request"),
        (
            "http://cos.example/bucket/raw/a.csv?x-id=CopyObject",
            "AWS4-HMAC-SHA256 Credential=A/20261123/r/s3/aws4_request",
        ),
    ],
)
def test_requests_that_cannot_be_reproduced_teach_no_route(url: str, authorization: str) -> None:
    assert route_of(url, authorization, "raw/a.csv") is None


def test_hosts_behind_a_proxy_are_left_to_botocore(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("https_proxy", "http://proxy.internal:3128")
    monkeypatch.setenv("no_proxy", "store.internal")

    assert proxied("https", "s3.eu-west-1.amazonaws.com")
    assert not proxied("https", "store.internal")
    assert not proxied("http", "s3.eu-west-1.amazonaws.com")


def test_only_a_clean_success_counts() -> None:
    ok = b"<CopyObjectResult><ETag>&quot;9e107d9d372bb6826bd81d3542a419d6&quot;</ETag></CopyObjectResult>"
    headers = {"x-amz-server-side-encryption": "AES256"}

    copied = clean_answer(200, ok, headers)

    assert copied is not None
    assert (copied.etag, copied.encryption, copied.customer_algorithm) == (
        "9e107d9d372bb6826bd81d3542a419d6",
        "AES256",
        None,
    )
    failed_late = b"<Error><Code>InternalError</Code><Message>copy failed</Message></Error>"
    assert clean_answer(200, failed_late, {}) is None, "S3 can fail a copy after answering 200"
    assert clean_answer(503, b"<Error><Code>SlowDown</Code></Error>", {}) is None
    assert clean_answer(301, b"", {}) is None
    assert clean_answer(200, b"<CopyObjectResult></CopyObjectResult>", {}) is None


@pytest.mark.parametrize(
    ("url", "token"),
    [
        ("http://127.0.0.1:9000/bucket/raw/a%20b/%C3%BC%2B.csv", None),
        ("https://bucket.s3.eu-west-1.amazonaws.com/raw/x~y.csv", "FwoGZXIvYXdzEJr//////////token"),
        ("https://s3.example.com:8443/bucket/raw/x.csv", None),
        ("http://127.0.0.1:9000/bucket/x%3Dy%26z/%28a%29%21%27%2A%20%20two.csv", "token with  two spaces"),
    ],
)
def test_the_signature_is_the_one_botocore_makes(url: str, token: str | None, monkeypatch: pytest.MonkeyPatch) -> None:
    now = datetime(2026, 11, 23, 10, 20, 30, tzinfo=UTC)
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: now.replace(tzinfo=None))
    credentials = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", token).get_frozen_credentials()
    headers = {"x-amz-copy-source": "bucket/raw/a%20b/%C3%BC%2B.csv", "x-amz-metadata-directive": "COPY"}
    parts = urlsplit(url)
    assert parts.hostname is not None
    route = BucketRoute(parts.scheme, parts.hostname, parts.port, "", "eu-west-1", "s3")
    reference = AWSRequest("PUT", url, headers=headers)
    S3SigV4Auth(credentials, "s3", "eu-west-1").add_auth(reference)

    ours = signed_headers("PUT", route, parts.path, headers, credentials, now=now)

    assert ours["authorization"] == reference.headers["Authorization"]
    assert ours.get("x-amz-security-token") == (token and reference.headers["X-Amz-Security-Token"])
