"""Stand-in HTTP services on loopback, for the cloud endpoints no emulator provides (token services)."""

from __future__ import annotations

import http.server
import json
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import Message
from typing import Any
from urllib.parse import parse_qs

from tests.emulators import LOOPBACK


@dataclass(frozen=True)
class Call:
    """One request to a stand-in: its path, headers and body (form fields or JSON, as sent)."""

    path: str
    headers: Message
    body: dict[str, Any]
    raw: bytes


Answer = Callable[[Call], tuple[int, Any]]


@contextmanager
def serve(handler: type[http.server.BaseHTTPRequestHandler], *, tls: ssl.SSLContext | None = None) -> Iterator[str]:
    """Run ``handler`` on a free loopback port; yields the base URL, stops the server after.

    With ``tls`` the server speaks HTTPS under that context; the URL still says http, so callers
    put their own scheme and name in front of the port.
    """
    server = http.server.ThreadingHTTPServer((LOOPBACK, 0), handler)
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://{LOOPBACK}:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def json_endpoint(answer: Answer) -> Iterator[str]:
    """A stand-in answering every POST with ``answer(call)``: a status and a JSON body."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            text = raw.decode()
            if self.headers.get("Content-Type", "").startswith("application/json"):
                body: dict[str, Any] = json.loads(text or "{}")
            else:
                body = {k: v[0] for k, v in parse_qs(text).items()}
            status, reply = answer(Call(self.path, self.headers, body, raw))
            payload = json.dumps(reply).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    with serve(Handler) as url:
        yield url


class RecordingListener:
    """A TCP listener on loopback that records every connection and byte reaching it.

    It stands where an attacker points Spaceport (a metadata service, an internal admin port):
    the address-policy tests assert it saw nothing. It answers each request with a bare 403,
    so a control case that is let through ends quickly instead of waiting for a timeout.
    """

    ANSWER = b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"

    def __init__(self, host: str = LOOPBACK) -> None:
        self.host = host
        self._socket = socket.create_server((host, 0))
        self.port = int(self._socket.getsockname()[1])
        self.connections = 0
        self.received = b""
        self._lock = threading.Lock()
        self._open = True
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def _accept(self) -> None:
        while self._open:
            try:
                peer, _ = self._socket.accept()
            except OSError:
                return
            with self._lock:
                self.connections += 1
            threading.Thread(target=self._serve, args=(peer,), daemon=True).start()

    def _serve(self, peer: socket.socket) -> None:
        peer.settimeout(2)
        data = b""
        with peer:
            try:
                while b"\r\n\r\n" not in data:
                    chunk = peer.recv(65536)
                    if not chunk:
                        break
                    data += chunk
                head, _, body = data.partition(b"\r\n\r\n")
                length = next(
                    (
                        int(line.split(b":", 1)[1])
                        for line in head.split(b"\r\n")
                        if line.lower().startswith(b"content-length:")
                    ),
                    0,
                )
                while len(body) < length:
                    chunk = peer.recv(65536)
                    if not chunk:
                        break
                    body += chunk
                    data += chunk
                self._record(data)
                data = b""
                peer.sendall(self.ANSWER)
            except OSError:
                pass
        self._record(data)

    def _record(self, data: bytes) -> None:
        with self._lock:
            self.received += data

    def close(self) -> None:
        self._open = False
        self._socket.close()


@contextmanager
def recording_listener(host: str = LOOPBACK) -> Iterator[RecordingListener]:
    listener = RecordingListener(host)
    try:
        yield listener
    finally:
        listener.close()
