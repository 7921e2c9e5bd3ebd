"""Server-side copies from the loadingzone into a space, against every provider's emulator.

moto (long-term keys, IAM policy checked), ``rclone serve s3``, Azurite (account key) and
gcp-storage-emulator do the copies for real. Each test records the requests the SDK sends
during the copy, to show the bytes never pass through Spaceport: only copy and head requests
go out. Azurite finishes every copy at once, so the pending states of an Azure copy come from a
loopback server replaying Azure's documented responses. gcp-storage-emulator checks no tokens;
the small token endpoint here only issues one, and test_provider_gcp checks the exchange itself.
"""

from __future__ import annotations

import hashlib
import http.server
import json
import os
import secrets
import threading
import uuid
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from azure.core.exceptions import ResourceExistsError
from azure.storage.blob import BlobServiceClient

from connections.methods import Method, Provider, clean_input
from connections.models import CloudConnection
from connections.providers.azure import client as azure
from connections.providers.azure import copying as azure_copying
from connections.providers.base import Location, StorageClient, StorageError
from connections.providers.gcp import client as gcp
from connections.providers.registry import client_for, forget_clients, location_for
from connections.providers.s3 import client as s3client
from connections.providers.s3 import multipart as s3multipart
from portal.tenancy.models import LOADINGZONE, Organization
from tests.connection_inputs import service_account_key
from tests.emulators import AZURITE_ACCOUNT, AZURITE_KEY, LOOPBACK, Azurite, GcsEmulator, MotoServer, RcloneS3
from tests.loopback import Call, json_endpoint
from tests.test_provider_aws import bucket_policy, keys_connection
from tests.test_provider_s3compat import connect as s3compat_connection

MiB = 1024 * 1024
PROVIDERS = ["aws", "s3compat", "azure", "gcs"]
# What a copy may send: reading properties and asking the store to copy, never the bytes.
COPY_OPERATIONS = {
    "aws": {"HeadObject", "CopyObject", "CreateMultipartUpload", "UploadPartCopy", "CompleteMultipartUpload"},
    "azure": {"GetBlobProperties", "CopyBlob"},
    "gcs": {"GetObject", "RewriteObject"},
}
COPY_OPERATIONS["s3compat"] = COPY_OPERATIONS["aws"]


@dataclass
class Store:
    """One connection's client, its loadingzone and a space, and the requests its SDK sends."""

    provider: str
    client: StorageClient
    loadingzone: Location
    space: Location
    missing_target: Location
    sent: list[str] = field(default_factory=list)
    admin: Any = None

    def put(self, key: str, body: bytes) -> None:
        self.client.put_object(self.loadingzone, key, body)

    def seed(self, key: str, body: bytes, content_type: str, metadata: dict[str, str]) -> None:
        """Upload as a client would, with a content type and metadata (S3 family only)."""
        self.admin.put_object(
            Bucket=self.loadingzone.bucket,
            Key=self.loadingzone.key(key),
            Body=body,
            ContentType=content_type,
            Metadata=metadata,
        )

    def describe(self, location: Location, key: str) -> tuple[str, dict[str, str]]:
        """Content type and metadata as the store keeps them; rclone adds an mtime of its own."""
        head = self.admin.head_object(Bucket=location.bucket, Key=location.key(key))
        return head["ContentType"], {k.lower(): v for k, v in head["Metadata"].items() if k.lower() != "mtime"}


def operation_names(client: Any, sent: list[str]) -> None:
    """botocore names each operation as it is called; a GetObject or PutObject would show here."""
    client.meta.events.register("before-call.s3", lambda model, **_: sent.append(model.name))


# --- the four stores -------------------------------------------------------------------------


def aws_store(request: pytest.FixtureRequest, organization: Organization) -> Store:
    moto: MotoServer = request.getfixturevalue("moto_server")
    bucket = f"spaceport-{secrets.token_hex(4)}"
    moto.client("s3").create_bucket(Bucket=bucket)
    actions = ["s3:ListBucket", "s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"]
    policy = bucket_policy(bucket, actions)
    # moto checks the policy before the bucket; allowed there, the missing bucket answers for itself.
    absent = f"absent-{secrets.token_hex(4)}"
    policy["Statement"][0]["Resource"] += [f"arn:aws:s3:::{absent}", f"arn:aws:s3:::{absent}/*"]
    _, key = moto.create_user(f"committer-{secrets.token_hex(3)}", policy)
    connection = keys_connection(organization, moto, bucket, key)
    store = s3_family_store("aws", connection, moto.client("s3"))
    store.missing_target = Location(absent, "raw/")
    return store


def s3compat_store(request: pytest.FixtureRequest, organization: Organization) -> Store:
    rclone: RcloneS3 = request.getfixturevalue("rclone_s3")
    bucket = f"spaceport-{secrets.token_hex(4)}"
    rclone.client().create_bucket(Bucket=bucket)
    connection = s3compat_connection(
        organization, rclone.endpoint_url, rclone.key.access_key_id, rclone.key.secret_access_key, bucket=bucket
    )
    return s3_family_store("s3compat", connection, rclone.client())


def s3_family_store(provider: str, connection: CloudConnection, admin: Any) -> Store:
    client = client_for(connection)
    assert isinstance(client, s3client.S3Client)
    store = Store(
        provider,
        client,
        location_for(connection, LOADINGZONE),
        location_for(connection, "raw"),
        Location(f"absent-{secrets.token_hex(4)}", "raw/"),
        admin=admin,
    )
    operation_names(client.s3, store.sent)
    return store


def azure_store(request: pytest.FixtureRequest, organization: Organization, monkeypatch: pytest.MonkeyPatch) -> Store:
    azurite: Azurite = request.getfixturevalue("azurite")
    sent: list[str] = []
    plain_options = azure._options

    def name_request(request: Any) -> None:
        http = request.http_request
        path = urlsplit(http.url).path
        if http.method == "HEAD":
            sent.append("GetBlobProperties")
        elif http.method == "PUT" and "x-ms-copy-source" in http.headers:
            source = urlsplit(http.headers["x-ms-copy-source"])
            query = parse_qs(source.query)
            read_only_sas = query.get("sp") == ["r"] and bool(query.get("sig"))
            from_loadingzone = unquote(source.path).startswith(f"/{AZURITE_ACCOUNT}/{LOADINGZONE}/")
            sent.append(
                "CopyBlob"
                if read_only_sas and from_loadingzone
                else f"CopyBlob from {http.headers['x-ms-copy-source']}"
            )
        else:
            sent.append(f"{http.method} {path}")

    monkeypatch.setattr(azure, "_options", lambda: {**plain_options(), "raw_request_hook": name_request})
    connection = make_connection(
        organization, Provider.AZURE, Method.AZURE_CONNECTION_STRING, {"connection_string": azurite.connection_string}
    )
    service = BlobServiceClient.from_connection_string(azurite.connection_string)
    space = f"space-{uuid.uuid4().hex[:12]}"
    service.create_container(space)
    with suppress(ResourceExistsError):
        service.create_container(LOADINGZONE)
    return Store(
        "azure",
        client_for(connection),
        location_for(connection, LOADINGZONE),
        location_for(connection, space),
        Location(f"absent-{uuid.uuid4().hex[:12]}"),
        sent,
    )


@pytest.fixture
def google_tokens() -> Iterator[str]:
    """Issues a bearer token for any signed assertion; test_provider_gcp checks the assertion."""

    def answer(call: Call) -> tuple[int, Any]:
        return 200, {"access_token": f"ya29.{secrets.token_urlsafe(8)}", "expires_in": 3599}

    with json_endpoint(answer) as url:
        yield f"{url}/token"


def gcs_store(request: pytest.FixtureRequest, organization: Organization) -> Store:
    emulator: GcsEmulator = request.getfixturevalue("gcs_emulator")
    token_uri = request.getfixturevalue("google_tokens")
    bucket = f"bucket-{uuid.uuid4().hex[:10]}"
    emulator.client().create_bucket(bucket)
    values = {
        "key_json": json.dumps(service_account_key(token_uri)),
        "bucket": bucket,
        "prefix": "spaceport/",
        "api_endpoint": emulator.endpoint_url,
    }
    connection = make_connection(organization, Provider.GCP, Method.GCP_SERVICE_ACCOUNT_KEY, values)
    client = client_for(connection)
    assert isinstance(client, gcp.GcsClient)
    store = Store(
        "gcs",
        client,
        location_for(connection, LOADINGZONE),
        location_for(connection, "raw"),
        Location(f"absent-{uuid.uuid4().hex[:10]}", "raw/"),
    )

    def name_request(response: Any, **_: Any) -> None:
        url = urlsplit(response.request.url)
        if "/rewriteTo/" in url.path:
            store.sent.append("RewriteObject")
        elif response.request.method == "GET" and "alt=media" not in url.query and "/upload/" not in url.path:
            store.sent.append("GetObject")
        else:
            store.sent.append(f"{response.request.method} {url.path}?{url.query}")

    # The client's requests session (google-cloud-core's ``_http``) has no public hook of its own.
    client.service._http.hooks["response"].append(name_request)
    return store


def make_connection(organization: Organization, provider: str, method: str, values: dict[str, Any]) -> CloudConnection:
    config, secret = clean_input(method, values)
    return CloudConnection.objects.create(
        organization=organization,
        name=f"copy-{uuid.uuid4().hex[:8]}",
        provider=provider,
        method=method,
        config=config,
        secret=secret,
    )


@pytest.fixture(params=PROVIDERS)
def store(
    request: pytest.FixtureRequest, organization: Organization, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> Store:
    settings.SPACEPORT_GCP_EXTRA_TOKEN_HOSTS = [LOOPBACK]
    forget_clients()
    if request.param == "aws":
        return aws_store(request, organization)
    if request.param == "s3compat":
        return s3compat_store(request, organization)
    if request.param == "azure":
        return azure_store(request, organization, monkeypatch)
    return gcs_store(request, organization)


# --- copies on every provider ------------------------------------------------------------------


OBJECTS = {
    "2024/run-7/Ordner/Übersicht ✓.csv": "x,y\n1,2\nÜ,✓\n".encode(),
    "with space/and more spaces.txt": b"spaced",
    "empty.bin": b"",
    "big/six-mib.bin": os.urandom(6 * MiB),
}


def test_copies_keep_bytes_names_and_checksums(store: Store) -> None:
    for key, body in OBJECTS.items():
        store.put(key, body)

    for key, body in OBJECTS.items():
        source = store.client.head_object(store.loadingzone, key)
        assert source is not None
        assert source.key == store.loadingzone.key(key)
        assert (source.size, source.checksum) == (len(body), f"md5:{hashlib.md5(body).hexdigest()}")  # noqa: S324

        store.sent.clear()
        copied = store.client.copy_object(store.loadingzone, key, store.space, key)

        assert copied.key == store.space.key(key)
        assert (copied.size, copied.checksum) == (source.size, source.checksum)
        assert store.client.head_object(store.space, key) == copied
        assert set(store.sent) <= COPY_OPERATIONS[store.provider], f"only copy requests, not {store.sent}"
        assert {"CopyObject", "CopyBlob", "RewriteObject"} & set(store.sent)
        assert store.client.get_object(store.space, key) == body
        assert store.client.get_object(store.loadingzone, key) == body, "a copy leaves the source in place"

    in_space = {item.key for item in store.client.list_objects(store.space)}
    assert in_space == {store.space.key(key) for key in OBJECTS}


def test_head_of_a_missing_key_is_none(store: Store) -> None:
    assert store.client.head_object(store.loadingzone, f"never-uploaded-{uuid.uuid4().hex}.csv") is None


def test_copying_a_missing_source_is_not_found(store: Store) -> None:
    key = f"never-uploaded-{uuid.uuid4().hex}.csv"
    with pytest.raises(StorageError) as raised:
        store.client.copy_object(store.loadingzone, key, store.space, key)
    assert raised.value.code == "not_found"
    assert not raised.value.transient
    assert store.client.head_object(store.space, key) is None


def test_copying_into_a_missing_bucket_or_container_says_so(store: Store) -> None:
    store.put("run.csv", b"t,v\n")
    with pytest.raises(StorageError) as raised:
        store.client.copy_object(store.loadingzone, "run.csv", store.missing_target, "run.csv")
    expected = "no_such_container" if store.provider == "azure" else "no_such_bucket"
    assert raised.value.code == expected
    if store.provider in ("azure", "gcs"):
        assert store.missing_target.bucket in raised.value.message


# --- S3 multipart copies ---------------------------------------------------------------------


@pytest.fixture
def s3_store(request: pytest.FixtureRequest, organization: Organization, settings: Any) -> Store:
    """An S3-family store whose multipart threshold is lowered to 5 MiB, so 5 MiB parts are used."""
    settings.SPACEPORT_S3_MULTIPART_COPY_THRESHOLD = 5 * MiB
    forget_clients()
    if request.param == "aws":
        return aws_store(request, organization)
    return s3compat_store(request, organization)


def copy_source_ranges(store: Store) -> list[str]:
    assert isinstance(store.client, s3client.S3Client)
    ranges: list[str] = []
    store.client.s3.meta.events.register(
        "provide-client-params.s3.UploadPartCopy", lambda params, **_: ranges.append(params["CopySourceRange"])
    )
    return ranges


@pytest.mark.parametrize("s3_store", ["aws"], indirect=True)
def test_large_objects_are_copied_in_parts_exactly(s3_store: Store) -> None:
    body = os.urandom(12 * MiB + 1)
    s3_store.seed("Ordner/Übersicht ✓.bin", body, "application/x-hdf5", {"instrument": "U-7"})
    ranges = copy_source_ranges(s3_store)

    copied = s3_store.client.copy_object(
        s3_store.loadingzone, "Ordner/Übersicht ✓.bin", s3_store.space, "Ordner/Übersicht ✓.bin"
    )

    assert s3_store.sent == [
        "HeadObject",
        "CreateMultipartUpload",
        "UploadPartCopy",
        "UploadPartCopy",
        "UploadPartCopy",
        "CompleteMultipartUpload",
        "HeadObject",
    ]
    assert sorted(ranges, key=lambda bytes_range: int(bytes_range[6:].split("-")[0])) == [
        f"bytes=0-{5 * MiB - 1}",
        f"bytes={5 * MiB}-{10 * MiB - 1}",
        f"bytes={10 * MiB}-{12 * MiB}",
    ]
    assert copied.size == len(body)
    assert copied.etag.endswith("-3")
    assert copied.checksum == "", "a multipart ETag is not an MD5 of the bytes"
    assert s3_store.client.get_object(s3_store.space, "Ordner/Übersicht ✓.bin") == body
    assert s3_store.describe(s3_store.space, "Ordner/Übersicht ✓.bin") == ("application/x-hdf5", {"instrument": "U-7"})


@pytest.mark.parametrize("s3_store", ["aws", "s3compat"], indirect=True)
def test_copy_object_below_the_threshold_keeps_type_and_metadata(s3_store: Store) -> None:
    s3_store.seed("a b/ç.csv", b"1,2\n" * 1000, "text/csv", {"instrument": "U-7"})

    s3_store.client.copy_object(s3_store.loadingzone, "a b/ç.csv", s3_store.space, "a b/ç.csv")

    assert "CopyObject" in s3_store.sent
    assert s3_store.describe(s3_store.space, "a b/ç.csv") == ("text/csv", {"instrument": "U-7"})


@pytest.mark.parametrize("s3_store", ["s3compat"], indirect=True)
def test_a_store_without_part_copies_fails_cleanly(s3_store: Store) -> None:
    """rclone serve s3 answers UploadPartCopy with 200 and no ETag, having copied nothing."""
    s3_store.put("big.bin", os.urandom(6 * MiB))

    with pytest.raises(StorageError) as raised:
        s3_store.client.copy_object(s3_store.loadingzone, "big.bin", s3_store.space, "big.bin")

    assert raised.value.code == "unsupported"
    assert "SPACEPORT_S3_MULTIPART_COPY_THRESHOLD" in raised.value.hint
    assert "AbortMultipartUpload" in s3_store.sent
    assert "CompleteMultipartUpload" not in s3_store.sent
    assert s3_store.client.head_object(s3_store.space, "big.bin") is None


@pytest.mark.parametrize("s3_store", ["aws"], indirect=True)
def test_every_part_names_the_version_of_the_source_it_copies(s3_store: Store) -> None:
    """A source overwritten halfway then fails the copy at the store instead of mixing two versions
    (moto does not check the condition, so the requests show it)."""
    s3_store.put("big.bin", os.urandom(11 * MiB))
    assert isinstance(s3_store.client, s3client.S3Client)
    source = s3_store.client.head_object(s3_store.loadingzone, "big.bin")
    assert source is not None
    conditions: list[str] = []
    s3_store.client.s3.meta.events.register(
        "provide-client-params.s3.UploadPartCopy", lambda params, **_: conditions.append(params["CopySourceIfMatch"])
    )

    s3_store.client.copy_object(s3_store.loadingzone, "big.bin", s3_store.space, "big.bin")

    assert [condition.strip('"') for condition in conditions] == [source.etag] * 3


def test_part_sizes_follow_the_threshold_and_the_part_limit() -> None:
    assert s3multipart.copy_part_size(6 * 1024**3, 5 * 1024**3) == 512 * MiB
    assert s3multipart.copy_part_size(6 * MiB, 1 * MiB) == 5 * MiB, "S3's smallest part"
    five_tib = 5 * 1024**4
    assert s3multipart.copy_part_size(five_tib, 5 * 1024**3) * 10_000 >= five_tib


def test_only_plain_single_part_etags_are_md5_checksums() -> None:
    md5 = "9E107D9D372BB6826BD81D3542A419D6"
    assert s3client.described("k", {"ETag": f'"{md5}"', "ContentLength": 1}).checksum == f"md5:{md5.lower()}"
    assert s3client.described("k", {"ETag": f'"{md5}-2"', "ContentLength": 1}).checksum == ""
    kms = {"ETag": f'"{md5}"', "ContentLength": 1, "ServerSideEncryption": "aws:kms"}
    assert s3client.described("k", kms).checksum == ""
    customer_key = {"ETag": f'"{md5}"', "ContentLength": 1, "SSECustomerAlgorithm": "AES256"}
    assert s3client.described("k", customer_key).checksum == ""


# --- Azure copies that take time -------------------------------------------------------------


@dataclass
class PendingCopies:
    """What the replaying server answers for the target's copy status, one state per poll."""

    states: list[str]
    description: str = ""
    requests: list[tuple[str, str]] = field(default_factory=list)


SOURCE_MD5 = "CY9rzUYh03PK3k6DJie09g=="  # base64 of md5(b"test")


@pytest.fixture
def pending_azure() -> Iterator[tuple[PendingCopies, str]]:
    """Azure's answers to Copy Blob, Get Blob Properties and Abort Copy Blob, as documented."""
    canned = PendingCopies(states=[])

    class Handler(http.server.BaseHTTPRequestHandler):
        def _headers(self, status: int, headers: dict[str, str]) -> None:
            self.send_response(status)
            for name, value in {
                "x-ms-version": "2025-01-05",
                "x-ms-request-id": "1",
                "Content-Length": "0",
                **headers,
            }.items():
                self.send_header(name, value)
            self.end_headers()

        def do_HEAD(self) -> None:
            canned.requests.append(("HEAD", self.path))
            blob = {
                "Content-Length": "4",
                "Content-MD5": SOURCE_MD5,
                "ETag": '"0x1"',
                "Last-Modified": "Mon, 23 Nov 2026 10:00:00 GMT",
                "x-ms-blob-type": "BlockBlob",
            }
            if f"/{LOADINGZONE}/" in self.path:
                self._headers(200, blob)
                return
            state = canned.states.pop(0) if len(canned.states) > 1 else canned.states[0]
            copy = {"x-ms-copy-id": "copy-1", "x-ms-copy-status": state}
            if canned.description:
                copy["x-ms-copy-status-description"] = canned.description
            if state != "success":
                blob.pop("Content-MD5")
            self._headers(200, {**blob, **copy})

        def do_PUT(self) -> None:
            canned.requests.append(("PUT", self.path))
            if "comp=copy" in self.path:
                self._headers(204, {})
                return
            headers = {"ETag": '"0x2"', "Last-Modified": "Mon, 23 Nov 2026 10:00:00 GMT"}
            self._headers(202, {**headers, "x-ms-copy-id": "copy-1", "x-ms-copy-status": "pending"})

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer((LOOPBACK, 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield canned, f"http://{LOOPBACK}:{server.server_address[1]}/{AZURITE_ACCOUNT}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def quick_polls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(azure_copying, "COPY_POLL_FIRST", 0.01)
    monkeypatch.setattr(azure_copying, "COPY_POLL_LONGEST", 0.05)


def replayed_client(organization: Organization, endpoint: str) -> StorageClient:
    values = {
        "connection_string": f"DefaultEndpointsProtocol=http;AccountName={AZURITE_ACCOUNT};"
        f"AccountKey={AZURITE_KEY};BlobEndpoint={endpoint};"
    }
    return azure.build_client(make_connection(organization, Provider.AZURE, Method.AZURE_CONNECTION_STRING, values))


@pytest.mark.usefixtures("quick_polls")
def test_azure_copy_waits_until_it_succeeds(
    organization: Organization, pending_azure: tuple[PendingCopies, str]
) -> None:
    canned, endpoint = pending_azure
    canned.states = ["pending", "pending", "pending", "success"]

    copied = replayed_client(organization, endpoint).copy_object(
        Location(LOADINGZONE), "run.csv", Location("raw"), "run.csv"
    )

    assert copied.checksum == "md5:098f6bcd4621d373cade4e832627b4f6"
    polls = [
        path for method, path in canned.requests if method == "HEAD" and path.startswith(f"/{AZURITE_ACCOUNT}/raw/")
    ]
    assert len(polls) == 4


@pytest.mark.usefixtures("quick_polls")
def test_a_failed_azure_copy_is_a_transient_error(
    organization: Organization, pending_azure: tuple[PendingCopies, str]
) -> None:
    canned, endpoint = pending_azure
    canned.states = ["pending", "failed"]
    canned.description = "500 InternalError Copy failed."

    with pytest.raises(StorageError) as raised:
        replayed_client(organization, endpoint).copy_object(
            Location(LOADINGZONE), "run.csv", Location("raw"), "run.csv"
        )

    assert raised.value.code == "copy_failed"
    assert raised.value.transient
    assert "500 InternalError Copy failed." in raised.value.message


@pytest.mark.usefixtures("quick_polls")
def test_an_azure_copy_that_never_ends_is_aborted(
    organization: Organization, pending_azure: tuple[PendingCopies, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(azure_copying, "COPY_WAIT_SECONDS", 0.3)
    canned, endpoint = pending_azure
    canned.states = ["pending"]

    with pytest.raises(StorageError) as raised:
        replayed_client(organization, endpoint).copy_object(
            Location(LOADINGZONE), "run.csv", Location("raw"), "run.csv"
        )

    assert raised.value.code == "copy_timeout"
    assert raised.value.transient
    aborts = [path for method, path in canned.requests if method == "PUT" and "comp=copy" in path]
    assert len(aborts) == 1
    assert "copyid=copy-1" in aborts[0]
