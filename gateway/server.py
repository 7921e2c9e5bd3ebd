"""The S3 gateway process: an aiohttp server that checks, authorizes and proxies S3 requests.

Each request is verified (:mod:`gateway.sigv4`), classified (:mod:`gateway.s3operations`),
authorized with :func:`accessgrants.decisions.decide_for_key`, then served by its family
(:mod:`gateway.objects`, :mod:`gateway.multipart`, :mod:`gateway.copies`, :mod:`gateway.deletes`,
:mod:`gateway.listings`), which re-signs it with the connection's credentials and streams it to
the store where the space lives. What those steps look up is kept in this process per access
snapshot version, which the gateway polls (:mod:`gateway.freshness`), so a warm request is CPU work
alone and runs on the event loop; a lookup that needs the database or Redis refuses to run there and
runs again on a worker thread (:meth:`gateway.proxy.Proxy.db`). Every refusal is answered here, as an
S3 error document.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Awaitable, Callable
from urllib.parse import parse_qsl, unquote

import aiohttp
from aiohttp import web
from django.conf import settings
from django.core.cache import caches
from django.db import connections

from gateway import copies, deletes, listings, multipart, objects
from gateway.buckets import space_of
from gateway.errors import S3Error
from gateway.expect import close_after_unasked_body, expect_nothing_yet, refuse_unmet_expectation
from gateway.facts import FACTS, RequestFacts, facts_of
from gateway.freshness import VersionPoller
from gateway.keys import access_key_secret
from gateway.objectkeys import checked_key
from gateway.observing import observer
from gateway.proxy import DB_WORKERS, Proxy, VettedResolver
from gateway.s3operations import Call, classify
from gateway.s3xml import S3_NS
from gateway.sigv4 import verify
from gateway.usage import KeyUsage
from portal.core import snapshots

log = logging.getLogger("spaceport.gateway")
__all__ = ["S3_NS", "Gateway", "application"]

PRESIGN_PARAMS = {
    "X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires", "X-Amz-SignedHeaders",
    "X-Amz-Signature", "x-id",
}  # fmt: skip

Handler = Callable[[Proxy, Call], Awaitable[web.StreamResponse]]
HANDLERS: dict[str, Handler] = {
    "ListBuckets": listings.list_buckets,
    "HeadBucket": listings.head_bucket,
    "GetBucketLocation": listings.bucket_location,
    "ListObjectsV2": listings.list_objects,
    "ListObjects": listings.list_objects,
    "ListMultipartUploads": listings.list_objects,
    "GetObject": objects.serve,
    "HeadObject": objects.serve,
    "PutObject": objects.serve,
    "DeleteObject": objects.serve,
    "UploadPart": objects.serve,
    "CreateMultipartUpload": multipart.create,
    "CompleteMultipartUpload": multipart.complete,
    "AbortMultipartUpload": multipart.abort,
    "ListParts": multipart.list_parts,
    "CopyObject": copies.copy,
    "UploadPartCopy": copies.copy,
    "DeleteObjects": deletes.delete_objects,
}
# Listings whose s3:prefix condition key is the request's prefix.
PREFIXED = ("ListObjectsV2", "ListObjects", "ListMultipartUploads")


def _split(host: str, raw_path: str) -> tuple[str, str]:
    """The bucket and key a request names: from ``<bucket>.<SPACEPORT_S3_GATEWAY_DOMAIN>`` in its
    host (virtual-host style) or from the first segment of its path (path style)."""
    path = unquote(raw_path.lstrip("/"))
    domain = str(getattr(settings, "SPACEPORT_S3_GATEWAY_DOMAIN", ""))
    name = host.lower() if host.startswith("[") else host.lower().rsplit(":", 1)[0]
    if domain and name.endswith(f".{domain}"):
        return name[: -len(domain) - 1], unquote(raw_path[1:] if raw_path.startswith("/") else raw_path)
    bucket, _, key = path.partition("/")
    return bucket, key


class Gateway(Proxy):
    """The request handler, holding the one HTTP client session used for every upstream store."""

    def __init__(self, workers: int = DB_WORKERS) -> None:
        super().__init__(workers)
        self.versions = VersionPoller()

    async def start(self, app: web.Application) -> None:
        # A store that stops answering is given up on (ServiceUnavailable) rather than waited on
        # forever; there is no total limit, since a large object takes as long as it takes.
        waiting = float(settings.SPACEPORT_S3_GATEWAY_UPSTREAM_TIMEOUT)
        self.session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(resolver=VettedResolver()),
            auto_decompress=False,
            timeout=aiohttp.ClientTimeout(total=None, sock_connect=waiting, sock_read=waiting),
        )
        # Django's caches are context-local: made in the context the server starts from, the default
        # cache is shared by every request's context instead of being built anew for each request.
        caches["default"]
        await self.versions.start()

    async def stop(self, app: web.Application) -> None:
        await self.versions.stop()
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
        snapshots.follow_pinned_version()  # the loop's thread: whichever thread runs the loop
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
        refuse_unmet_expectation(request)
        headers = list(request.headers.items())
        verified = await self.db(verify, request.method, raw_path, raw_query, headers, access_key_secret)
        key_id = facts.access_key_id = verified.access_key_id
        query = {k: v for k, v in parse_qsl(raw_query, keep_blank_values=True) if k not in PRESIGN_PARAMS}
        bucket, key = _split(request.headers.get("host", ""), raw_path)
        facts.bucket = bucket
        operation = classify(request.method, bucket, key, query, request.headers)
        facts.operation = operation.name
        call = Call(request, operation, key_id, bucket, key, query, verified, facts)
        if bucket:
            call.space = await self.db(space_of, key_id, bucket)
            if call.space is None:
                raise S3Error("NoSuchBucket", "The specified bucket does not exist.")
        if operation.on_object:
            checked_key(key)
        if operation.action is not None:
            context: dict[str, object] | None = None
            if operation.name in PREFIXED:
                context = {"s3:prefix": query.get("prefix", "")}
            await self.authorize(key_id, operation.action, call.resource, context)
        return await HANDLERS[operation.name](self, call)


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
        usage.start(gateway.on_threads, float(settings.SPACEPORT_S3_GATEWAY_USAGE_FLUSH_SECONDS))

    async def stop_counting(app: web.Application) -> None:
        await usage.stop(gateway.on_threads)

    app.on_startup.append(gateway.start)
    app.on_startup.append(start_counting)
    # The last counts are written while the gateway's database threads are still there.
    app.on_cleanup.append(stop_counting)
    app.on_cleanup.append(gateway.stop)
    app.on_response_prepare.append(_name_the_request)
    app.on_response_prepare.append(close_after_unasked_body)
    app.router.add_get("/healthz", healthz)
    app.router.add_route("*", "/{tail:.*}", gateway.handle, expect_handler=expect_nothing_yet)
    return app
