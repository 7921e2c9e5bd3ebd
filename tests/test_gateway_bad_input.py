"""Bad input against a live gateway on a loopback port: oversized headers, bodies longer or shorter
than their Content-Length, an aws-chunked body that never ends, a client that stops sending, and a
store that stalls or resets. Each gets a clear S3 error or a timeout; afterwards nothing partial is in
the store, the gateway still answers, and no connection is left open on either side."""

from __future__ import annotations

import asyncio
import gc
import hashlib
import http.client
import logging
import socket
import struct
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from botocore.exceptions import ClientError
from prometheus_client import REGISTRY

from accessgrants.accesskeys import issue_key
from connections.active import make_active
from tests.emulators import LOOPBACK, RcloneS3, free_port
from tests.gateway_live import LiveGateway, s3_for, start_gateway
from tests.gateway_signing import Raw, signed
from tests.test_provider_s3compat import connect

pytestmark = pytest.mark.django_db(transaction=True)

SHORT = 1  # seconds: the body and upstream timeouts in these tests


@pytest.fixture
def live(settings: Any) -> Iterator[LiveGateway]:
    settings.SPACEPORT_S3_GATEWAY_BODY_TIMEOUT = SHORT
    settings.SPACEPORT_S3_GATEWAY_UPSTREAM_TIMEOUT = SHORT
    gateway = start_gateway()
    yield gateway
    gateway.stop()


def port_of(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


def open_connections(port: int) -> list[str]:
    """TCP connections of this machine with ``port`` at one end, other than listening sockets and
    those in TIME_WAIT (closed, kept by the kernel alone): a connection in CLOSE_WAIT is one the
    gateway never closed after its peer did."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local, remote, state = fields[1], fields[2], fields[3]
            ports = {int(local.rsplit(":", 1)[1], 16), int(remote.rsplit(":", 1)[1], 16)}
            if port in ports and state not in ("0A", "06"):
                found.append(f"{local}->{remote} state {state}")
    return found


def settled(live: LiveGateway, *ports: int) -> None:
    """Within a few seconds no connection is left open to the gateway or to the given stores, and
    the gateway's client holds none in use; then the gateway still answers."""
    deadline = time.monotonic() + 5
    while True:
        leftover = [c for port in (port_of(live.url), *ports) for c in open_connections(port)]
        in_use = len(live.gateway.session.connector._acquired)
        if not leftover and not in_use:
            break
        assert time.monotonic() < deadline, f"left open: {leftover}, {in_use} upstream in use ({live.url}, {ports})"
        time.sleep(0.1)
    assert requests.get(f"{live.url}/healthz", timeout=5).text == "ok"


def nothing_stored(rclone_s3: RcloneS3, name: str) -> None:
    assert list(rclone_s3.root.glob(f"*/raw/{name}")) == []
    assert list(rclone_s3.root.glob(f"*/raw/*{name}*")) == []


def head_of(raw: Raw, replace: dict[str, str] | None = None, drop: tuple[str, ...] = ()) -> bytes:
    """The request line and headers of ``raw``, some headers replaced or left out."""
    replace = {k.lower(): v for k, v in (replace or {}).items()}
    lines = [f"{raw.method} {raw.path}{'?' + raw.query if raw.query else ''} HTTP/1.1"]
    for name, value in raw.headers:
        lower = name.lower()
        if lower in drop or lower in replace:
            continue
        lines.append(f"{name}: {value}")
    lines += [f"{name}: {value}" for name, value in replace.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def connected(live: LiveGateway) -> socket.socket:
    return socket.create_connection((LOOPBACK, port_of(live.url)), timeout=10)


def answer_of(sock: socket.socket) -> tuple[int, bytes]:
    response = http.client.HTTPResponse(sock)
    response.begin()
    return response.status, response.read()


def put_raw(issued: Any, name: str, body: bytes, **headers: str) -> Raw:
    return signed(
        "PUT",
        f"/acme-raw/{name}",
        body=body,
        headers=headers,
        key_id=issued.key.access_key_id,
        secret=issued.secret_key,
        at=datetime.now(UTC),
    )


def test_oversized_headers_are_a_clear_400(live: LiveGateway, world: dict[str, Any]) -> None:
    for headers in ({"x-amz-meta-big": "a" * 10_000}, {f"x-amz-meta-h{i}": "v" for i in range(200)}):
        answer = requests.get(f"{live.url}/acme-raw/x", headers=headers, timeout=10)
        assert answer.status_code == 400
        assert b"Got more than 8190 bytes" in answer.content or b"Too many headers" in answer.content, answer.content
    settled(live)


def test_a_body_longer_than_its_content_length_is_not_stored(
    live: LiveGateway, world: dict[str, Any], rclone_s3: RcloneS3
) -> None:
    body = b"0123456789"
    raw = put_raw(world["key"], "longer.bin", body)
    with connected(live) as sock:
        # The first five bytes are the body (not the signed one); the rest is no request at all.
        sock.sendall(head_of(raw, {"Content-Length": "5"}) + body)
        status, content = answer_of(sock)
    assert status == 400, content
    assert b"XAmzContentSHA256Mismatch" in content or b"Invalid method encountered" in content, content
    with connected(live) as sock:
        sock.sendall(head_of(raw, {"Content-Length": "5"}) + body[:5])
        status, content = answer_of(sock)
    assert status == 400 and b"XAmzContentSHA256Mismatch" in content, content
    nothing_stored(rclone_s3, "longer.bin")
    settled(live)


def test_a_body_shorter_than_its_content_length_is_not_stored(
    live: LiveGateway, world: dict[str, Any], rclone_s3: RcloneS3
) -> None:
    body = b"0123456789"
    raw = put_raw(world["key"], "shorter.bin", body)
    with connected(live) as sock:
        sock.sendall(head_of(raw, {"Content-Length": "20"}) + body)
        sock.shutdown(socket.SHUT_WR)  # the client is done: the body ends short
        try:
            status, content = answer_of(sock)
        except (http.client.RemoteDisconnected, ConnectionError):
            status, content = 0, b"hung up"
    assert status in (0, 400), content
    assert status == 0 or b"IncompleteBody" in content or b"RequestTimeout" in content
    nothing_stored(rclone_s3, "shorter.bin")
    settled(live)


def test_a_client_that_stops_sending_mid_body_times_out(
    live: LiveGateway, world: dict[str, Any], rclone_s3: RcloneS3
) -> None:
    body = b"x" * 100_000
    raw = put_raw(world["key"], "slow.bin", body)
    started = time.monotonic()
    with connected(live) as sock:
        sock.sendall(head_of(raw) + body[:50_000])  # and then nothing, the connection kept open
        status, content = answer_of(sock)
    assert status == 400 and b"RequestTimeout" in content, content
    assert time.monotonic() - started < SHORT + 5
    nothing_stored(rclone_s3, "slow.bin")
    settled(live, port_of(world_store(rclone_s3)))


def world_store(rclone_s3: RcloneS3) -> str:
    return rclone_s3.endpoint_url


def test_an_aws_chunked_body_that_never_ends_is_cut_off(
    live: LiveGateway, world: dict[str, Any], rclone_s3: RcloneS3
) -> None:
    issued = world["key"]
    headers = {
        "x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
        "x-amz-trailer": "x-amz-checksum-crc32",
        "x-amz-decoded-content-length": "100000",
        "content-encoding": "aws-chunked",
    }
    raw = put_raw(issued, "endless.bin", b"", **headers)
    chunk = b"10000\r\n" + b"e" * 0x10000 + b"\r\n"
    answered: list[tuple[int, bytes]] = []
    with connected(live) as sock:
        sock.sendall(head_of(raw, {"Transfer-Encoding": "chunked"}, drop=("content-length",)))

        def answer() -> None:
            answered.append(answer_of(sock))

        reader = threading.Thread(target=answer, daemon=True)
        reader.start()
        sent = 0
        try:
            while reader.is_alive() and sent < 64 * 1024 * 1024:
                sock.sendall(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")  # HTTP chunk of an aws chunk
                sent += len(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass
        reader.join(10)
    assert answered, "the gateway never answered an endless body"
    status, content = answered[0]
    assert status == 400 and b"x-amz-decoded-content-length" in content, content
    assert sent < 64 * 1024 * 1024
    nothing_stored(rclone_s3, "endless.bin")
    settled(live)


class Backend:
    """A store that accepts connections and then stalls (never answers) or resets them."""

    def __init__(self, behaviour: str) -> None:
        self.behaviour = behaviour
        self.port = free_port()
        self.accepted = 0
        self.loop = asyncio.new_event_loop()
        self.writers: list[asyncio.StreamWriter] = []
        ready = threading.Event()

        async def serve() -> None:
            self.server = await asyncio.start_server(self.connected, LOOPBACK, self.port)
            ready.set()

        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        asyncio.run_coroutine_threadsafe(serve(), self.loop)
        ready.wait(5)

    async def connected(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        if self.behaviour == "reset":
            await reader.read(1)
            sock = writer.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.transport.abort()
            return
        self.writers.append(writer)  # held open, never answered, until the gateway hangs up
        await reader.read(-1)
        writer.close()

    def stop(self) -> None:
        async def close() -> None:
            for writer in self.writers:
                writer.transport.abort()
            self.server.close()

        asyncio.run_coroutine_threadsafe(close(), self.loop).result(5)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


@pytest.mark.parametrize("behaviour", ["stall", "reset"])
def test_a_store_that_stalls_or_resets_is_an_s3_error(
    live: LiveGateway, organization: Any, member: Any, world: dict[str, Any], behaviour: str
) -> None:
    backend = Backend(behaviour)
    try:
        make_active(connect(organization, f"http://{LOOPBACK}:{backend.port}", "AKIDBACKEND", "backend-secret"))
        s3 = s3_for(live.url, issue_key(member, organization))
        for call in (
            lambda: s3.get_object(Bucket="acme-raw", Key="a.txt"),
            lambda: s3.put_object(Bucket="acme-raw", Key="a.txt", Body=b"a" * 1000),
            lambda: s3.list_objects_v2(Bucket="acme-raw"),
        ):
            started = time.monotonic()
            with pytest.raises(ClientError) as failed:
                call()
            assert failed.value.response["Error"]["Code"] == "ServiceUnavailable"
            assert time.monotonic() - started < SHORT + 5, "the client was kept waiting"
        assert backend.accepted >= 3
        s3.close()
        del failed  # the last refusal holds the client's connection until it is dropped
        gc.collect()
        backend.stop()
        settled(live, backend.port)
    finally:
        if backend.thread.is_alive():
            backend.stop()


def test_a_raw_request_sent_as_above_is_accepted(live: LiveGateway, world: dict[str, Any]) -> None:
    """The requests above are refused for what was done to them, not for how they are sent."""
    raw = put_raw(world["key"], "fine.bin", b"fine")
    assert raw.header("x-amz-content-sha256") == hashlib.sha256(b"fine").hexdigest()
    with connected(live) as sock:
        sock.sendall(head_of(raw) + b"fine")
        status, content = answer_of(sock)
    assert status == 200, content


def hung_up_gets() -> float:
    return (
        REGISTRY.get_sample_value("spaceport_gateway_requests_total", {"operation": "GetObject", "status": "499"}) or 0
    )


def test_a_client_that_hangs_up_mid_answer_is_one_line_without_a_traceback(
    live: LiveGateway, world: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    """A client that goes away while its object streams is an everyday event, not a server error."""
    s3 = s3_for(live.url, world["key"])
    s3.put_object(Bucket="acme-raw", Key="long.bin", Body=b"x" * (8 * 1024 * 1024))
    url = urlsplit(s3.generate_presigned_url("get_object", Params={"Bucket": "acme-raw", "Key": "long.bin"}))
    s3.close()  # its pooled connection is not the one under test
    before = hung_up_gets()
    caplog.set_level(logging.DEBUG)
    with connected(live) as sock:
        sock.sendall(f"GET {url.path}?{url.query} HTTP/1.1\r\nHost: {url.netloc}\r\n\r\n".encode())
        assert sock.recv(1024).startswith(b"HTTP/1.1 200 ")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # a reset, as a killed client
    deadline = time.monotonic() + 5
    while hung_up_gets() == before:
        assert time.monotonic() < deadline, "the request the client left is counted as 499"
        time.sleep(0.05)
    settled(live)
    assert hung_up_gets() == before + 1
    assert [(r.name, r.getMessage()) for r in caplog.records if r.exc_info or r.levelno >= logging.WARNING] == []
    gone = [r for r in caplog.records if "went away" in r.getMessage()]
    assert len(gone) == 1 and gone[0].levelno == logging.INFO, [r.getMessage() for r in caplog.records]
    assert "GetObject" in gone[0].getMessage() and url.query not in gone[0].getMessage()
