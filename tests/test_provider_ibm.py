"""IBM Cloud Object Storage: HMAC keys against rclone, API keys against loopback stand-ins.

No IBM Cloud IAM or COS emulator exists. For the API-key method the tests run two small
loopback servers written here: an IAM token endpoint that checks the grant type and the key,
and a COS stand-in that records each request exactly as it arrives, so the bearer header (and
the absence of any SigV4 signature) is checked on the wire.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit
from xml.sax.saxutils import escape

import jwt
import pytest

from connections.methods import Method, Provider, clean_input
from connections.models import CloudConnection
from connections.providers.base import Location, StorageError
from connections.providers.ibm import client as ibm
from connections.providers.registry import location_for
from tests.emulators import LOOPBACK, RcloneS3, free_port

API_KEY = "ibm-api-key-" + "q" * 32
INSTANCE = "crn:v1:bluemix:public:cloud-object-storage:global:a/0123456789abcdef::"


def connect(organization: Any, method: str, values: dict[str, Any]) -> CloudConnection:
    config, secret = clean_input(method, values)
    return CloudConnection.objects.create(
        organization=organization,
        name=f"cos-{secrets.token_hex(3)}",
        provider=Provider.IBM,
        method=method,
        config=config,
        secret=secret,
    )


@dataclass
class Loopback:
    """A loopback HTTP server and what it has seen."""

    url: str
    seen: list[dict[str, Any]] = field(default_factory=list)
    issued: list[str] = field(default_factory=list)
    objects: dict[str, bytes] = field(default_factory=dict)


def serve(handler: type[BaseHTTPRequestHandler]) -> tuple[ThreadingHTTPServer, threading.Thread]:
    server = ThreadingHTTPServer((LOOPBACK, 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server, thread


class Answering(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def answer(self, status: int, body: bytes = b"", content_type: str = "application/xml", **headers: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


def allow_iam_url(settings: Any, url: str) -> None:
    """The API key only goes to token URLs the operator lists; the stand-in is listed like any other."""
    settings.SPACEPORT_IBM_IAM_TOKEN_URLS = [*settings.SPACEPORT_IBM_IAM_TOKEN_URLS, url]


@pytest.fixture
def iam(settings: Any) -> Iterator[Loopback]:
    """The test IAM token endpoint: refuses anything but the API-key grant with the right key."""
    state = Loopback("")

    class Handler(Answering):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers["Content-Length"])).decode()
            body = parse_qs(raw)
            state.seen.append({"content_type": self.headers["Content-Type"], "form": body})
            if body.get("grant_type") != ["urn:ibm:params:oauth:grant-type:apikey"]:
                self.answer(400, b'{"errorCode":"BXNIM0109E"}', "application/json")
            elif body.get("apikey") != [API_KEY]:
                self.answer(400, b'{"errorCode":"BXNIM0415E","errorMessage":"API key not found"}', "application/json")
            else:
                token = jwt.encode({"sub": "iam-ServiceId-spaceport", "n": len(state.issued)}, "k" * 32)
                state.issued.append(token)
                payload = {"access_token": token, "token_type": "Bearer", "expires_in": 3600, "expiration": 0}
                self.answer(200, json.dumps(payload).encode(), "application/json")

    server, _ = serve(Handler)
    state.url = f"http://{LOOPBACK}:{server.server_address[1]}/identity/token"
    allow_iam_url(settings, state.url)
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def cos() -> Iterator[Loopback]:
    """The COS stand-in: a path-style object store in a dict that records every request's headers."""
    state = Loopback("")

    class Handler(Answering):
        def _record(self) -> tuple[str, dict[str, list[str]]]:
            parts = urlsplit(self.path)
            state.seen.append({"method": self.command, "path": parts.path, "headers": dict(self.headers)})
            return unquote(parts.path), parse_qs(parts.query)

        def do_PUT(self) -> None:
            path, _ = self._record()
            data = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            state.objects[path] = data
            self.answer(200, ETag=f'"{hashlib.md5(data).hexdigest()}"')  # noqa: S324 - S3's ETag is an MD5

        def do_GET(self) -> None:
            path, query = self._record()
            if query.get("list-type") == ["2"]:
                self.answer(200, listing(state.objects, path, query.get("prefix", [""])[0]))
            elif path in state.objects:
                self.answer(200, state.objects[path], "application/octet-stream")
            else:
                self.answer(404, b"<Error><Code>NoSuchKey</Code><Message>no</Message></Error>")

        def do_DELETE(self) -> None:
            path, _ = self._record()
            state.objects.pop(path, None)
            self.answer(204)

    server, _ = serve(Handler)
    state.url = f"http://{LOOPBACK}:{server.server_address[1]}"
    yield state
    server.shutdown()
    server.server_close()


def listing(objects: dict[str, bytes], bucket_path: str, prefix: str) -> bytes:
    bucket = bucket_path.strip("/")
    found = sorted((p.split("/", 2)[2], len(v)) for p, v in objects.items() if p.startswith(f"/{bucket}/{prefix}"))
    contents = "".join(
        f'<Contents><Key>{escape(key)}</Key><Size>{size}</Size><ETag>"e"</ETag>'
        "<LastModified>2024-01-01T00:00:00.000Z</LastModified></Contents>"
        for key, size in found
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
        f"<Name>{bucket}</Name><Prefix>{escape(prefix)}</Prefix><KeyCount>{len(found)}</KeyCount>"
        f"<MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated>{contents}</ListBucketResult>"
    ).encode()


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


def api_key_client(organization: Any, iam: Loopback, cos: Loopback, clock: Clock | None = None) -> ibm.ApiKeyClient:
    values = {
        "endpoint": cos.url,
        "bucket": "cos-bucket",
        "api_key": API_KEY,
        "service_instance_id": INSTANCE,
        "iam_url": iam.url,
    }
    client = ibm.build_client(connect(organization, Method.IBM_API_KEY, values), clock=clock or Clock())
    assert isinstance(client, ibm.ApiKeyClient)
    return client


def test_api_key_requests_carry_the_bearer_token_and_no_signature(
    organization: Any, iam: Loopback, cos: Loopback
) -> None:
    client = api_key_client(organization, iam, cos)
    location = location_for(client.connection, "raw")

    assert "iam-ServiceId-spaceport" in client.authenticate()
    client.put_object(location, "run/1.csv", b"a,b\n")
    assert [o.key for o in client.list_objects(location)] == ["raw/run/1.csv"]
    assert client.get_object(location, "run/1.csv") == b"a,b\n"
    client.delete_object(location, "run/1.csv")

    assert iam.seen == [
        {
            "content_type": "application/x-www-form-urlencoded",
            "form": {"grant_type": ["urn:ibm:params:oauth:grant-type:apikey"], "apikey": [API_KEY]},
        }
    ]
    assert [r["method"] for r in cos.seen] == ["PUT", "GET", "GET", "DELETE"]
    assert cos.seen[0]["path"] == "/cos-bucket/raw/run/1.csv"
    for request in cos.seen:
        headers = {name.lower(): value for name, value in request["headers"].items()}
        assert headers["authorization"] == f"bearer {iam.issued[0]}"
        assert headers["ibm-service-instance-id"] == INSTANCE
        assert "x-amz-date" not in headers
        assert "x-amz-security-token" not in headers
        assert "AWS4-HMAC-SHA256" not in json.dumps(headers)


def test_token_is_cached_and_exchanged_again_near_expiry(organization: Any, iam: Loopback, cos: Loopback) -> None:
    clock = Clock()
    client = api_key_client(organization, iam, cos, clock)
    location = Location("cos-bucket", "raw/")

    for number in range(5):
        client.put_object(location, f"{number}.txt", b"x")
    clock.now += 3000
    client.get_object(location, "0.txt")
    assert len(iam.issued) == 1

    clock.now += 400
    client.get_object(location, "1.txt")
    assert len(iam.issued) == 2
    bearer = [r["headers"]["Authorization"] for r in cos.seen]
    assert bearer == [f"bearer {iam.issued[0]}"] * 6 + [f"bearer {iam.issued[1]}"]


def test_wrong_api_key(organization: Any, iam: Loopback, cos: Loopback) -> None:
    values = {"endpoint": cos.url, "bucket": "cos-bucket", "api_key": "not-the-key", "iam_url": iam.url}
    client = ibm.build_client(connect(organization, Method.IBM_API_KEY, values))

    with pytest.raises(Exception) as raised:
        client.put_object(Location("cos-bucket"), "x", b"x")
    error = client.explain(raised.value)

    assert error.code == "invalid_credentials"
    assert "API key" in error.message
    assert "not-the-key" not in error.message + error.hint + repr(raised.value)
    assert cos.seen == []


def test_unreachable_iam(organization: Any, cos: Loopback, settings: Any) -> None:
    iam_url = f"http://{LOOPBACK}:{free_port()}/identity/token"
    allow_iam_url(settings, iam_url)
    values = {"endpoint": cos.url, "bucket": "cos-bucket", "api_key": API_KEY, "iam_url": iam_url}
    client = ibm.build_client(connect(organization, Method.IBM_API_KEY, values))

    with pytest.raises(StorageError) as raised:
        client.authenticate()

    assert (raised.value.code, raised.value.transient) == ("unreachable", True)
    assert iam_url in raised.value.message


def test_key_and_token_stay_out_of_the_logs(
    organization: Any, iam: Loopback, cos: Loopback, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client = api_key_client(organization, iam, cos)
    client.put_object(Location("cos-bucket"), "x", b"x")
    client.get_object(Location("cos-bucket"), "x")

    assert iam.issued
    assert "Exchanged an IBM Cloud API key" in caplog.text
    assert API_KEY not in caplog.text
    assert iam.issued[0] not in caplog.text
    assert API_KEY not in repr(client.tokens)


# --- HMAC keys, against rclone serve s3 ------------------------------------------------------


def hmac_client(organization: Any, rclone_s3: RcloneS3, bucket: str, secret: str) -> ibm.HmacClient:
    values = {
        "endpoint": rclone_s3.endpoint_url,
        "bucket": bucket,
        "access_key_id": rclone_s3.key.access_key_id,
        "secret_access_key": secret,
    }
    client = ibm.build_client(connect(organization, Method.IBM_HMAC, values))
    assert isinstance(client, ibm.HmacClient)
    return client


def test_hmac_round_trip(organization: Any, rclone_s3: RcloneS3) -> None:
    bucket = f"cos-{secrets.token_hex(4)}"
    rclone_s3.client().create_bucket(Bucket=bucket)
    client = hmac_client(organization, rclone_s3, bucket, rclone_s3.key.secret_access_key)
    location = location_for(client.connection, "raw")

    assert rclone_s3.key.access_key_id in client.authenticate()
    client.put_object(location, "a/b.txt", b"hmac")
    assert [(o.key, o.size) for o in client.list_objects(location)] == [("raw/a/b.txt", 4)]
    assert client.get_object(location, "a/b.txt") == b"hmac"
    client.delete_object(location, "a/b.txt")
    assert list(client.list_objects(location)) == []


def test_hmac_wrong_secret(organization: Any, rclone_s3: RcloneS3) -> None:
    bucket = f"cos-{secrets.token_hex(4)}"
    rclone_s3.client().create_bucket(Bucket=bucket)
    client = hmac_client(organization, rclone_s3, bucket, "wrong-secret-" + "z" * 20)

    with pytest.raises(Exception) as raised:
        client.put_object(Location(bucket), "x", b"x")
    error = client.explain(raised.value)

    assert error.code == "invalid_credentials"
    assert "secret access key is wrong" in error.message
    assert "z" * 20 not in error.message + error.hint
