"""CopyObject sent straight, for the one request a commit makes per object.

botocore's client spends about 2 ms of CPU on each request in event hooks, endpoint rules, the
user agent and response parsing. A commit of many small objects sends one CopyObject per object
from threads that share one interpreter lock, so that cost bounds how fast it goes ("CopyObject
request cost" in docs/benchmarks.md). This sends the same request over a urllib3 pool, signed
with the SigV4 steps the gateway checks its own clients' signatures with
(``connections.providers.s3.sigv4``): the tests compare the signature with the one botocore makes
byte for byte, and the stores the tests run against check it.

What stays outside botocore is the signing and the sending: learning the route, one signature
and one urllib3 request. botocore's ``S3SigV4Auth`` took about 100 µs of CPU per copy (it keeps
headers in ``email.message`` objects and derives the day's signing key on every request), a
sixth of the copy's whole cost; signing here keeps the key and takes under 10 µs.

It never guesses how a store is addressed: it learns the bucket's URL (virtual host or path,
endpoint, FIPS and the rest) and the signing scope from a CopyObject botocore sent to the same
bucket, and only then goes straight. It takes only a clean answer: anything else (an error, a
redirect, a throttle, a dropped connection, a 200 that carries an error) answers None, and the
caller sends the request through botocore, which retries and explains. Requests through a proxy
and stores that do not sign with SigV4 (IBM's IAM bearer tokens) always go through botocore.
Its connections pass the outbound address policy as botocore's do (``connections.egress_http``);
a refused one also answers None.
"""

from __future__ import annotations

import html
import re
import threading
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit

import urllib3
from botocore.credentials import ReadOnlyCredentials
from botocore.exceptions import BotoCoreError
from botocore.httpsession import get_cert_path

from connections.egress import AddressRefused
from connections.egress_http import guard_pool_manager
from connections.providers.s3.sigv4 import ALGORITHM, EMPTY_SHA256, signature, signing_key, string_to_sign

SIGV4 = "AWS4-HMAC-SHA256 "
SCOPE = re.compile(r"Credential=[^/,]+/\d{8}/([^/,]+)/([^/,]+)/aws4_request")
ETAG = re.compile(rb"<ETag>([^<]*)</ETag>")
# Headers of requests this path cannot reproduce (S3 Express sessions, bucket owner checks).
UNREPRODUCED = ("x-amz-s3session-token", "x-amz-expected-bucket-owner")
# What botocore quotes in a key (the greedy URI label) and in the copy source header.
KEY_SAFE = "/~"
COPY_SOURCE_SAFE = "-._~/"
DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class BucketRoute:
    """How botocore reached one bucket: the URL objects hang under, and the signing scope."""

    scheme: str
    host: str
    port: int | None
    prefix: str
    region: str
    service: str


@dataclass(frozen=True)
class Copied:
    """What a clean CopyObject answer says about the copy."""

    etag: str
    encryption: str | None
    customer_algorithm: str | None


def route_of(url: str, authorization: str, key: str) -> BucketRoute | None:
    """The bucket's route from a request botocore signed for ``key`` in it, or None if unusable."""
    if not authorization.startswith(SIGV4):
        return None
    scope = SCOPE.search(authorization)
    parts = urlsplit(url)
    suffix = "/" + quote(key, safe=KEY_SAFE)
    if scope is None or parts.query or not parts.path.endswith(suffix) or parts.hostname is None:
        return None
    return BucketRoute(
        scheme=parts.scheme,
        host=parts.hostname,
        port=parts.port,
        prefix=parts.path[: -len(suffix)],
        region=scope.group(1),
        service=scope.group(2),
    )


def signed_headers(
    method: str,
    route: BucketRoute,
    path: str,
    headers: Mapping[str, str],
    credentials: ReadOnlyCredentials,
    now: datetime | None = None,
) -> dict[str, str]:
    """``headers`` with Host, the date, the payload hash, the session token and the SigV4
    Authorization for a request with an empty body and no query string, as botocore's
    ``S3SigV4Auth`` signs it (the tests compare the two byte for byte).

    S3 takes the path as sent (already percent-encoded once) and signs it unchanged. Every header
    is signed; the day's signing key is derived once (``s3.sigv4``).
    """
    moment = now or datetime.now(UTC)
    amz_date = moment.strftime("%Y%m%dT%H%M%SZ")
    date = amz_date[:8]
    netloc = route.host if route.port in (None, DEFAULT_PORTS.get(route.scheme)) else f"{route.host}:{route.port}"
    signed = {name.lower(): value for name, value in headers.items()}
    signed.update({"host": netloc, "x-amz-content-sha256": EMPTY_SHA256, "x-amz-date": amz_date})
    if credentials.token:
        signed["x-amz-security-token"] = credentials.token
    names = sorted(signed)
    listed = ";".join(names)
    lines = "".join(f"{name}:{' '.join(signed[name].split())}\n" for name in names)
    canonical = f"{method}\n{path}\n\n{lines}\n{listed}\n{EMPTY_SHA256}"
    scope = f"{date}/{route.region}/{route.service}/aws4_request"
    key = signing_key(credentials.secret_key, date, route.region, route.service)
    proof = signature(key, string_to_sign(amz_date, scope, canonical))
    signed["authorization"] = (
        f"{ALGORITHM} Credential={credentials.access_key}/{scope}, SignedHeaders={listed}, Signature={proof}"
    )
    return signed


def proxied(scheme: str, host: str) -> bool:
    """Whether the environment sends requests to this host through a proxy, as botocore would."""
    proxies = urllib.request.getproxies()
    return scheme in proxies and not urllib.request.proxy_bypass(host)


class DirectCopy:
    """CopyObject within buckets botocore has already reached, without botocore's client."""

    def __init__(
        self,
        credentials: Callable[[], ReadOnlyCredentials],
        *,
        verify: bool | str,
        connect_timeout: float,
        read_timeout: float,
        max_connections: int,
    ) -> None:
        self._credentials = credentials
        self._routes: dict[str, BucketRoute] = {}
        self._seen = threading.local()
        self._pools = guard_pool_manager(
            urllib3.PoolManager(
                num_pools=4,
                maxsize=max_connections,
                timeout=urllib3.Timeout(connect=connect_timeout, read=read_timeout),
                retries=False,
                cert_reqs="CERT_REQUIRED" if verify else "CERT_NONE",
                ca_certs=get_cert_path(verify) if verify else None,
            )
        )

    def observe(self, request: Any, **_: Any) -> None:
        """botocore's ``before-send`` hook for CopyObject: keep the signed request of this thread."""
        headers = request.headers
        if any(name in headers for name in UNREPRODUCED):
            self._seen.request = None
            return
        authorization = headers.get("Authorization", "")
        if isinstance(authorization, bytes):
            authorization = authorization.decode("latin-1")
        self._seen.request = (request.url, authorization)

    def learn(self, bucket: str, key: str) -> None:
        """After botocore copied to ``key`` in ``bucket`` in this thread: remember how it got there."""
        seen = getattr(self._seen, "request", None)
        self._seen.request = None
        if seen is None or bucket in self._routes:
            return
        route = route_of(seen[0], seen[1], key)
        if route is not None and not proxied(route.scheme, route.host):
            self._routes[bucket] = route

    def knows(self, bucket: str) -> bool:
        return bucket in self._routes

    def copy(self, source_bucket: str, source_key: str, bucket: str, key: str) -> Copied | None:
        """Copy with all metadata; None when the bucket is not known yet or the answer is not clean."""
        route = self._routes.get(bucket)
        if route is None:
            return None
        path = f"{route.prefix}/{quote(key, safe=KEY_SAFE)}"
        headers = {
            "x-amz-copy-source": quote(f"{source_bucket}/{source_key}", safe=COPY_SOURCE_SAFE),
            "x-amz-metadata-directive": "COPY",
        }
        try:
            signed = signed_headers("PUT", route, path, headers, self._credentials())
            pool = self._pools.connection_from_host(route.host, route.port, route.scheme)
            answer = pool.urlopen(
                "PUT",
                path,
                body=b"",
                headers=signed,
                retries=False,
                redirect=False,
                preload_content=True,
            )
        except (urllib3.exceptions.HTTPError, OSError, BotoCoreError, AddressRefused):
            return None
        return clean_answer(answer.status, answer.data, answer.headers)


def clean_answer(status: int, body: bytes, headers: Any) -> Copied | None:
    """The copy's ETag from a 200 without an error, else None (S3 can fail a copy with a 200)."""
    if status != 200 or b"<Error>" in body:
        return None
    found = ETAG.search(body)
    if found is None:
        return None
    return Copied(
        etag=html.unescape(found.group(1).decode()).strip('"'),
        encryption=headers.get("x-amz-server-side-encryption"),
        customer_algorithm=headers.get("x-amz-server-side-encryption-customer-algorithm"),
    )
