"""The S3 gateway process: an aiohttp server that checks, authorizes and proxies S3 requests.

Each request is verified (:mod:`gateway.sigv4`), authorized with
:func:`accessgrants.decisions.decide_for_key`, then re-signed with the connection's credentials and
streamed to the store where the space lives; nothing is kept between requests. Work that reads the
database runs in worker threads.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any, TypeVar
from urllib.parse import parse_qsl, quote, unquote
from xml.etree import ElementTree
from xml.sax.saxutils import escape

import aiohttp
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.helpers import is_ip_address
from django.conf import settings
from django.db import close_old_connections, connections
from yarl import URL

from accessgrants.decisions import decide_for_key
from connections.storage import AddressRefused, vet
from gateway.bodies import received
from gateway.buckets import listable_buckets, space_of
from gateway.errors import S3Error
from gateway.facts import FACTS, RequestFacts, facts_of
from gateway.keys import access_key_secret
from gateway.observing import observer
from gateway.sigv4 import verify
from gateway.upstream import Upstream, upstream_for
from gateway.usage import KeyUsage

log = logging.getLogger("spaceport.gateway")
T = TypeVar("T")
DB_WORKERS = 8

S3_NS = "http://s3.amazonaws.com/doc/2006-03-01/"
READ_CHUNK = 256 * 1024
REQUEST_HEADERS = (
    "content-type", "content-md5", "content-encoding", "content-language", "content-disposition",
    "cache-control", "expires", "range", "if-match", "if-none-match", "if-modified-since",
    "if-unmodified-since",
)  # fmt: skip
RESPONSE_HEADERS = (
    "content-type", "content-length", "content-range", "content-encoding", "content-language",
    "content-disposition", "cache-control", "expires", "etag", "last-modified", "accept-ranges",
)  # fmt: skip
PRESIGN_PARAMS = {
    "X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires", "X-Amz-SignedHeaders",
    "X-Amz-Signature", "x-id",
}  # fmt: skip


def _fresh_db(work: Callable[..., T], *args: Any) -> T:
    """Run ``work`` as Django runs a request: connections past ``CONN_MAX_AGE`` or broken are
    replaced first, so a restarted database is not answered with a dead connection forever."""
    close_old_connections()
    return work(*args)


class VettedResolver(AbstractResolver):
    """Resolves names through the address policy, so the gateway connects only where it may."""

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        found = await asyncio.to_thread(vet, host, port)
        return [
            ResolveResult(hostname=host, host=d.address, port=d.port, family=d.family, proto=0, flags=0) for d in found
        ]

    async def close(self) -> None:
        return None


def _forwarded(headers: Any, names: tuple[str, ...]) -> dict[str, str]:
    chosen = {}
    for name, value in headers.items():
        lower = name.lower()
        if (
            lower in names
            or lower.startswith("x-amz-meta-")
            or (lower.startswith("x-amz-checksum-") and lower != "x-amz-checksum-algorithm")
        ):
            chosen[lower] = value
    return chosen


def _split(host: str, raw_path: str) -> tuple[str, str]:
    """The bucket and key a request names: from ``<bucket>.<SPACEPORT_S3_GATEWAY_DOMAIN>`` in its
    host (virtual-host style) or from the first segment of its path (path style)."""
    path = unquote(raw_path.lstrip("/"))
    domain = str(getattr(settings, "SPACEPORT_S3_GATEWAY_DOMAIN", ""))
    name = host.lower() if host.startswith("[") else host.lower().rsplit(":", 1)[0]
    if domain and name.endswith(f".{domain}"):
        return name[: -len(domain) - 1], path
    bucket, _, key = path.partition("/")
    return bucket, key


OBJECT_OPERATIONS = {"GET": "GetObject", "HEAD": "HeadObject", "PUT": "PutObject", "DELETE": "DeleteObject"}


def _operation(method: str, bucket: str, key: str, query: dict[str, str]) -> str:
    """The S3 operation's name as the access log and the metrics show it."""
    if not bucket:
        return "ListBuckets"
    if not key:
        return "ListObjectsV2" if method == "GET" and query.get("list-type") == "2" else f"{method}Bucket"
    return OBJECT_OPERATIONS.get(method, f"{method}Object")


def _deny(why: str) -> S3Error:
    return S3Error("AccessDenied", f"Access Denied ({why}).")


class Gateway:
    """The request handler, holding the one HTTP client session used for every upstream store."""

    def __init__(self, workers: int = DB_WORKERS) -> None:
        self.session: aiohttp.ClientSession | None = None
        self.workers = workers
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="gateway-db")

    async def _db(self, work: Callable[..., T], *args: Any) -> T:
        """Run ``work`` (which may read the database) on the gateway's worker threads."""
        return await asyncio.get_running_loop().run_in_executor(self.pool, partial(_fresh_db, work, *args))

    async def _authorize(
        self, access_key_id: str, action: str, resource: str, context: dict[str, object] | None = None
    ) -> None:
        decision = await self._db(partial(decide_for_key, context=context), access_key_id, action, resource)
        if not decision.allowed:
            raise _deny(getattr(decision, "reason", "") or "no policy allows it")

    async def start(self, app: web.Application) -> None:
        # A store that stops answering is given up on (ServiceUnavailable) rather than waited on
        # forever; there is no total limit, since a large object takes as long as it takes.
        waiting = float(settings.SPACEPORT_S3_GATEWAY_UPSTREAM_TIMEOUT)
        self.session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(resolver=VettedResolver()),
            auto_decompress=False,
            timeout=aiohttp.ClientTimeout(total=None, sock_connect=waiting, sock_read=waiting),
        )

    async def stop(self, app: web.Application) -> None:
        if self.session is not None:
            await self.session.close()
        barrier = threading.Barrier(self.workers)

        def close_connections() -> None:
            barrier.wait(timeout=10)
            connections.close_all()

        closing = [asyncio.wrap_future(self.pool.submit(close_connections)) for _ in range(self.workers)]
        await asyncio.gather(*closing, return_exceptions=True)
        self.pool.shutdown(wait=False)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        facts = facts_of(request)
        request_id = facts.request_id
        raw_path, _, raw_query = request.raw_path.partition("?")
        try:
            answer = await self._answer(request, raw_path, raw_query, facts)
            facts.status = answer.status
            return answer
        except S3Error as error:
            facts.status, facts.error_code = error.status, error.code
            log.info("%s %s %s refused: %s %s", request_id, request.method, raw_path, error.code, error.message)
            body = b"" if request.method == "HEAD" else error.to_xml(unquote(raw_path), request_id)
            return web.Response(
                status=error.status,
                body=body,
                content_type="application/xml",
                headers={"x-amz-request-id": request_id},
            )

    async def _answer(
        self, request: web.Request, raw_path: str, raw_query: str, facts: RequestFacts
    ) -> web.StreamResponse:
        headers = list(request.headers.items())
        verified = await self._db(verify, request.method, raw_path, raw_query, headers, access_key_secret)
        key_id = facts.access_key_id = verified.access_key_id
        query = {k: v for k, v in parse_qsl(raw_query, keep_blank_values=True) if k not in PRESIGN_PARAMS}
        bucket, key = _split(request.headers.get("host", ""), raw_path)
        facts.bucket = bucket
        facts.operation = _operation(request.method, bucket, key, query)
        if not bucket:
            if request.method != "GET" or query:
                raise S3Error("NotImplemented", "Only ListBuckets is served at the root.")
            return await self._list_buckets(key_id)
        space = await self._db(space_of, key_id, bucket)
        if space is None:
            raise S3Error("NoSuchBucket", "The specified bucket does not exist.")
        if not key:
            if request.method == "GET" and query.get("list-type") == "2":
                prefix = query.get("prefix", "")
                await self._authorize(key_id, "s3:ListBucket", bucket, {"s3:prefix": prefix})
                upstream = await self._db(upstream_for, space)
                return await self._list_objects(upstream, bucket, query)
            raise S3Error("NotImplemented", "This bucket operation is not served by the gateway yet.")
        if query:
            raise S3Error("NotImplemented", "This object operation is not served by the gateway yet.")
        action = {"GET": "s3:GetObject", "HEAD": "s3:GetObject", "PUT": "s3:PutObject", "DELETE": "s3:DeleteObject"}
        if request.method not in action:
            raise S3Error("NotImplemented", "This object operation is not served by the gateway yet.")
        if request.method == "PUT" and "x-amz-copy-source" in request.headers:
            raise S3Error("NotImplemented", "CopyObject is not served by the gateway yet.")
        await self._authorize(key_id, action[request.method], f"{bucket}/{key}")
        upstream = await self._db(upstream_for, space)
        return await self._object(request, upstream, key, verified)

    async def _list_buckets(self, key_id: str) -> web.Response:
        buckets = await self._db(listable_buckets, key_id)
        entries = "".join(
            f"<Bucket><Name>{escape(name)}</Name><CreationDate>{space.created.strftime('%Y-%m-%dT%H:%M:%S.000Z')}"
            "</CreationDate></Bucket>"
            for name, space in buckets
        )
        body = (
            f'<?xml version="1.0" encoding="UTF-8"?>\n<ListAllMyBucketsResult xmlns="{S3_NS}">'
            f"<Owner><ID>{escape(key_id)}</ID></Owner><Buckets>{entries}</Buckets></ListAllMyBucketsResult>"
        )
        return web.Response(body=body.encode(), content_type="application/xml")

    async def _send(
        self, upstream: Upstream, method: str, url: str, headers: dict[str, str], body: CheckedBody | None = None
    ) -> aiohttp.ClientResponse:
        """Send a signed request to the space's store through the address policy."""
        assert self.session is not None
        try:
            if is_ip_address(upstream.host):
                # aiohttp connects to an address literal without asking the resolver: vet it here.
                await asyncio.to_thread(vet, upstream.host, upstream.port)
            signed = await self._db(upstream.signed_headers, method, url, headers)
            data = body.pieces() if body is not None else None
            # Sent exactly as signed: yarl would otherwise decode %2F in the query, and stores that
            # build their canonical request from the received query (moto) would refuse the signature.
            target = URL(url, encoded=True)
            return await self.session.request(method, target, headers=signed, data=data, allow_redirects=False)
        except AddressRefused as refused:
            log.warning("upstream %s refused by the address policy: %s", upstream.host, refused)
            raise S3Error("ServiceUnavailable", "The space's storage may not be reached from here.", 503) from refused
        except aiohttp.ClientError as failed:
            if body is not None and body.error is not None:
                raise body.error from failed
            log.warning("upstream %s failed: %s", upstream.host, failed)
            raise S3Error("ServiceUnavailable", "The space's storage could not be reached.", 503) from failed

    async def _list_objects(self, upstream: Upstream, bucket: str, query: dict[str, str]) -> web.Response:
        prefix = upstream.location.prefix
        params = {"list-type": "2"}
        for name in ("delimiter", "max-keys", "continuation-token", "fetch-owner"):
            if name in query:
                params[name] = query[name]
        params["prefix"] = prefix + query.get("prefix", "")
        if "start-after" in query:
            params["start-after"] = prefix + query["start-after"]
        url = upstream.url() + "?" + "&".join(f"{k}={quote(v, safe='')}" for k, v in sorted(params.items()))
        response = await self._send(upstream, "GET", url, {})
        async with response:
            body = await response.read()
            if response.status != 200:
                raise _upstream_error(response.status, body)
        encode = query.get("encoding-type") == "url"
        return web.Response(body=_rewritten_listing(body, bucket, prefix, encode), content_type="application/xml")

    async def _object(self, request: web.Request, upstream: Upstream, key: str, verified: Any) -> web.StreamResponse:
        method = request.method
        headers = _forwarded(request.headers, REQUEST_HEADERS)
        body: CheckedBody | None = None
        if method == "PUT":
            length_text = request.headers.get("x-amz-decoded-content-length") or request.headers.get("content-length")
            if length_text is None or not length_text.isdigit():
                raise S3Error("MissingContentLength", "You must provide the Content-Length HTTP header.")
            headers["content-length"] = length_text
            encodings = [e.strip() for e in headers.pop("content-encoding", "").split(",") if e.strip()]
            if [e for e in encodings if e != "aws-chunked"]:
                # aws-chunked is how the body came to the gateway, not how it is stored.
                headers["content-encoding"] = ", ".join(e for e in encodings if e != "aws-chunked")
            raw_length = request.headers.get("content-length")
            check = verified.body_check(int(raw_length) if raw_length and raw_length.isdigit() else None)
            body = CheckedBody(request, check, facts_of(request))
        response = await self._send(upstream, method, upstream.url(key), headers, body)
        async with response:
            if response.status >= 300 and response.status != 304:
                raise _upstream_error(response.status, await response.read())
            answered = _forwarded(response.headers, RESPONSE_HEADERS)
            status = response.status
            if "content-range" in answered:
                # A part is 206 (some stores answer 200), and a checksum describes the whole object,
                # never the part: a client checking it would reject the part.
                status = 206
                answered = {name: value for name, value in answered.items() if not name.startswith("x-amz-checksum-")}
            answer = web.StreamResponse(status=status, headers=answered)
            if method == "HEAD" and "content-length" in response.headers:
                answer.content_length = int(response.headers["content-length"])
            await answer.prepare(request)
            if method == "GET":
                facts = facts_of(request)
                async for piece in response.content.iter_chunked(READ_CHUNK):
                    facts.bytes_out += len(piece)
                    await answer.write(piece)
            await answer.write_eof()
            return answer


class CheckedBody:
    """The request body as it streams upstream through its check; a failed check aborts the
    upstream request (its last piece is never sent) and is kept to be answered to the client."""

    def __init__(self, request: web.Request, check: Any, facts: RequestFacts) -> None:
        self.request = request
        self.check = check
        self.facts = facts
        self.error: S3Error | None = None

    async def pieces(self) -> AsyncIterator[bytes]:
        try:
            async for piece in received(self.request, READ_CHUNK):
                self.facts.bytes_in += len(piece)
                out = self.check.feed(piece)
                if out:
                    yield out
            last = self.check.finish()
        except S3Error as error:
            self.error = error
            raise
        if last:
            yield last


def _parsed(body: bytes) -> ElementTree.Element:
    """An upstream store's XML answer. ElementTree never resolves external entities, and expat
    (2.4 and later) refuses entity expansion blow-ups, so a hostile store can send no more than bad XML."""
    return ElementTree.fromstring(body)  # noqa: S314


def _upstream_error(status: int, body: bytes) -> S3Error:
    code = {404: "NoSuchKey", 403: "AccessDenied", 412: "PreconditionFailed", 416: "InvalidRange"}.get(status, "")
    try:
        found = _parsed(body).findtext("Code") if body else None
    except ElementTree.ParseError:
        found = None
    code = found or code or "InternalError"
    if code in ("NoSuchBucket", "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch"):
        return S3Error("ServiceUnavailable", "The space's storage refused the gateway; ask an administrator.", 503)
    messages = {"NoSuchKey": "The specified key does not exist."}
    return S3Error(code, messages.get(code, f"The storage answered {code}."), status if status >= 400 else 502)


def _rewritten_listing(body: bytes, bucket: str, prefix: str, encode: bool) -> bytes:
    ElementTree.register_namespace("", S3_NS)
    root = _parsed(body)
    ns = {"s3": S3_NS}

    def strip(text: str | None) -> str:
        value = text or ""
        value = value[len(prefix) :] if value.startswith(prefix) else value
        return quote(value, safe="/") if encode else value

    for element in root.iter():
        tag = element.tag.split("}", 1)[-1]
        if tag == "Name":
            element.text = bucket
        elif tag in ("Prefix", "Key", "StartAfter"):
            element.text = strip(element.text)
        elif tag == "EncodingType":
            element.text = "url"
    if encode and root.find("s3:EncodingType", ns) is None:
        ElementTree.SubElement(root, f"{{{S3_NS}}}EncodingType").text = "url"
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ElementTree.tostring(root)


async def _name_the_request(request: web.Request, response: web.StreamResponse) -> None:
    """Every answer carries its request id, the one its log line names."""
    found = request.get(FACTS)
    if found is not None:
        response.headers.setdefault("x-amz-request-id", found.request_id)


async def healthz(request: web.Request) -> web.Response:
    return web.Response(text="ok")


GATEWAY = web.AppKey("gateway", Gateway)
USAGE = web.AppKey("usage", KeyUsage)


def application() -> web.Application:
    """The gateway as an aiohttp application: ``/healthz`` and every S3 path, each request logged,
    measured and counted against its key (:mod:`gateway.observing`)."""
    gateway = Gateway()
    usage = KeyUsage()
    app = web.Application(client_max_size=0, middlewares=[observer(usage)])
    app[GATEWAY] = gateway
    app[USAGE] = usage

    async def start_counting(app: web.Application) -> None:
        usage.start(gateway._db, float(settings.SPACEPORT_S3_GATEWAY_USAGE_FLUSH_SECONDS))

    async def stop_counting(app: web.Application) -> None:
        await usage.stop(gateway._db)

    app.on_startup.append(gateway.start)
    app.on_startup.append(start_counting)
    # The last counts are written while the gateway's database threads are still there.
    app.on_cleanup.append(stop_counting)
    app.on_cleanup.append(gateway.stop)
    app.on_response_prepare.append(_name_the_request)
    app.router.add_get("/healthz", healthz)
    app.router.add_route("*", "/{tail:.*}", gateway.handle)
    return app
