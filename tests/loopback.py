"""Stand-in HTTP services on loopback, for the cloud endpoints no emulator provides (token services)."""

from __future__ import annotations

import http.server
import json
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
def serve(handler: type[http.server.BaseHTTPRequestHandler]) -> Iterator[str]:
    """Run ``handler`` on a free loopback port; yields the base URL, stops the server after."""
    server = http.server.ThreadingHTTPServer((LOOPBACK, 0), handler)
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
