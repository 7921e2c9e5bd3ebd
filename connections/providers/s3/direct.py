"""CopyObject sent straight, for the one request a commit makes per object.

botocore's client spends about 2 ms of CPU on each request in event hooks, endpoint rules, the
user agent and response parsing. A commit of many small objects sends one CopyObject per object
from threads that share one interpreter lock, so that cost bounds how fast it goes ("CopyObject
request cost" in docs/benchmarks.md). This sends the same request, signed by botocore's own
``S3SigV4Auth`` (the tests compare the signature with the one botocore's client makes byte for
byte, and the stores the tests run against check it), over a urllib3 pool, for under half the CPU.

What stays outside botocore is only the sending: learning the route and one urllib3 request.
Signing through ``S3SigV4Auth`` costs about 45 µs more per request than the hand-written
signature it replaced (botocore keeps headers in ``email.message`` objects): medians of three
``make bench-copy`` runs on the shared 2-core machine, CPU ms per CopyObject, were 0.41 with the
hand-written signature and 0.46 with botocore's, against 1.00 for botocore's whole client. The
client's extra half millisecond per request is why the fast path stays.

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
from typing import Any
from urllib.parse import quote, urlsplit

import urllib3
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import ReadOnlyCredentials
from botocore.exceptions import BotoCoreError
from botocore.httpsession import get_cert_path

from connections.egress import AddressRefused
from connections.egress_http import guard_pool_manager

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
) -> dict[str, str]:
    """``headers`` with Host, the date, the payload hash, the session token and the SigV4
    Authorization for a request with an empty body and no query string, signed by botocore's
    own ``S3SigV4Auth``.

    S3 takes the path as sent (already percent-encoded once); the S3 signer leaves it unchanged
    in the canonical request. Host is set before signing so the header sent is the one signed.
    """
    netloc = route.host if route.port in (None, DEFAULT_PORTS.get(route.scheme)) else f"{route.host}:{route.port}"
    request = AWSRequest(method, f"{route.scheme}://{netloc}{path}", headers={**headers, "host": netloc}, data=b"")
    S3SigV4Auth(credentials, route.service, route.region).add_auth(request)
    return {name.lower(): value for name, value in request.headers.items()}


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
