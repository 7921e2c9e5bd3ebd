"""Requests signed by botocore's own signers, as the gateway receives them, for the gateway's tests."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any
from unittest import mock
from urllib.parse import urlsplit

from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

HOST = "gateway.example:9000"
KEY_ID = "SPKAAAAAAAAAAAAAAAAA"
SECRET = "s3cr3t/Key+0123456789abcdefghijklmnopqrs"
SIGNED_AT = datetime(2026, 5, 24, 12, 0, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Raw:
    """A request as the server hands it to the verifier."""

    method: str
    path: str
    query: str
    headers: list[tuple[str, str]]
    body: bytes = field(default=b"", repr=False)

    def with_header(self, name: str, value: str) -> Raw:
        return replace(self, headers=[*self.headers, (name, value)])

    def without_header(self, name: str) -> Raw:
        return replace(self, headers=[(n, v) for n, v in self.headers if n.lower() != name.lower()])

    def replacing_header(self, name: str, value: str) -> Raw:
        return self.without_header(name).with_header(name, value)

    def header(self, name: str) -> str:
        return next(v for n, v in self.headers if n.lower() == name.lower())


def _raw(request: AWSRequest, body: bytes) -> Raw:
    prepared = request.prepare()
    parts = urlsplit(prepared.url)
    headers = [("Host", parts.netloc), *((str(n), str(v)) for n, v in prepared.headers.items())]
    return Raw(request.method, parts.path, parts.query, headers, body)


def signed(
    method: str,
    path: str,
    query: str = "",
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    *,
    key_id: str = KEY_ID,
    secret: str = SECRET,
    region: str = "us-east-1",
    service: str = "s3",
    unsigned_payload: bool = False,
    at: datetime = SIGNED_AT,
    host: str = HOST,
) -> Raw:
    """A header-signed request (S3SigV4Auth), signing the body's hash unless ``unsigned_payload``.

    An ``x-amz-content-sha256`` among ``headers`` (a STREAMING-* mode) is signed as the payload.
    """
    url = f"http://{host}{path}" + (f"?{query}" if query else "")
    request = AWSRequest(method=method, url=url, data=body, headers=dict(headers or {}))
    if unsigned_payload:
        request.context["client_config"] = Config(s3={"payload_signing_enabled": False})
    with mock.patch("botocore.auth.get_current_datetime", return_value=at.replace(tzinfo=None)):
        signer = S3SigV4Auth(Credentials(key_id, secret), service, region)
        mode = next((v for n, v in (headers or {}).items() if n.lower() == "x-amz-content-sha256"), None)
        if mode is not None:
            signer.payload = lambda request: mode  # type: ignore[method-assign]
        signer.add_auth(request)
    return _raw(request, body)


def presigned(
    method: str,
    path: str,
    query: str = "",
    *,
    expires: int = 3600,
    key_id: str = KEY_ID,
    secret: str = SECRET,
    region: str = "us-east-1",
    service: str = "s3",
    at: datetime = SIGNED_AT,
    host: str = HOST,
) -> Raw:
    """A presigned URL (S3SigV4QueryAuth) used as a client uses it: no body hash, only ``host`` signed."""
    url = f"http://{host}{path}" + (f"?{query}" if query else "")
    request = AWSRequest(method=method, url=url)
    with mock.patch("botocore.auth.get_current_datetime", return_value=at.replace(tzinfo=None)):
        S3SigV4QueryAuth(Credentials(key_id, secret), service, region, expires=expires).add_auth(request)
    return _raw(request, b"")


def secrets(**known: str) -> Any:
    """A secret lookup over ``known`` (key id to secret) and the test key."""
    table = {KEY_ID: SECRET, **known}
    return table.get


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def chunk_signature(key: bytes, amz_date: str, scope: str, previous: str, data: bytes) -> str:
    empty = hashlib.sha256(b"").hexdigest()
    text = f"AWS4-HMAC-SHA256-PAYLOAD\n{amz_date}\n{scope}\n{previous}\n{empty}\n{sha256(data)}"
    return hmac.new(key, text.encode(), "sha256").hexdigest()


def trailer_signature(key: bytes, amz_date: str, scope: str, previous: str, line: str) -> str:
    """The signature of the trailer ``line`` (``name:value``), chained from the final chunk's."""
    text = f"AWS4-HMAC-SHA256-TRAILER\n{amz_date}\n{scope}\n{previous}\n{sha256((line + chr(10)).encode())}"
    return hmac.new(key, text.encode(), "sha256").hexdigest()


def signing_key(secret: str, date: str, region: str = "us-east-1", service: str = "s3") -> bytes:
    """SigV4's derived key, computed here rather than by the gateway's own code under test."""
    key = hmac.digest(f"AWS4{secret}".encode(), date.encode(), "sha256")
    for part in (region, service, "aws4_request"):
        key = hmac.digest(key, part.encode(), "sha256")
    return key


def aws_chunked(
    data: bytes,
    chunk_size: int,
    *,
    key: bytes | None = None,
    amz_date: str = "",
    scope: str = "",
    seed: str = "",
    trailer: tuple[str, str] | None = None,
) -> bytes:
    """An aws-chunked body as AWS documents it: signed chunks chained from ``seed`` when ``key`` is
    given, then the final empty chunk, then the ``trailer`` line (signed too when ``key`` is given)."""
    pieces = [data[i : i + chunk_size] for i in range(0, len(data), chunk_size)] + [b""]
    out = bytearray()
    previous = seed
    for piece in pieces:
        if key is None:
            out += f"{len(piece):x}\r\n".encode()
        else:
            previous = chunk_signature(key, amz_date, scope, previous, piece)
            out += f"{len(piece):x};chunk-signature={previous}\r\n".encode()
        out += piece + b"\r\n" if piece else b""
    if trailer is None:
        return bytes(out + b"\r\n")
    line = f"{trailer[0]}:{trailer[1]}"
    out += line.encode() + b"\r\n"
    if key is not None:
        out += f"x-amz-trailer-signature:{trailer_signature(key, amz_date, scope, previous, line)}\r\n".encode()
    return bytes(out + b"\r\n")
