"""Talking to a space's store: the one HTTP client session, the address policy on every connection,
re-signing, bodies checked as they stream, and the store's errors turned into the client's.

:class:`Proxy` is what the operation families (:mod:`gateway.objects`, :mod:`gateway.multipart`,
:mod:`gateway.copies`, :mod:`gateway.deletes`, :mod:`gateway.listings`) are given; it also runs
the lookups (decisions, spaces, connections): on the event loop when this process's memory answers
them, as it does for warm requests, and on a pool of worker threads when they need the database or
Redis (:meth:`Proxy.db`).
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any, TypeVar
from urllib.parse import quote

import aiohttp
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.helpers import is_ip_address
from django.core.exceptions import SynchronousOnlyOperation
from django.db import close_old_connections
from yarl import URL

from accessgrants.decisions import decide_for_key
from connections.storage import AddressRefused, vet
from gateway.bodies import received
from gateway.errors import S3Error
from gateway.facts import RequestFacts
from gateway.s3operations import Call
from gateway.s3xml import parsed
from gateway.upstream import Upstream, upstream_of
from portal.core import snapshots

log = logging.getLogger("spaceport.gateway")
T = TypeVar("T")
DB_WORKERS = 8
READ_CHUNK = 256 * 1024
UNRESERVED = "-_.~"


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


def deny(why: str) -> S3Error:
    return S3Error("AccessDenied", f"Access Denied ({why}).")


def query_string(params: dict[str, str]) -> str:
    """``params`` encoded as SigV4 encodes them, sorted, so what is signed is what is sent."""
    return "&".join(f"{quote(k, safe=UNRESERVED)}={quote(v, safe=UNRESERVED)}" for k, v in sorted(params.items()))


class Proxy:
    """The client side of the gateway, shared by every request of one process."""

    def __init__(self, workers: int = DB_WORKERS) -> None:
        self.session: aiohttp.ClientSession | None = None
        self.workers = workers
        self.pool = ThreadPoolExecutor(
            max_workers=workers, thread_name_prefix="gateway-db", initializer=snapshots.follow_pinned_version
        )

    async def db(self, work: Callable[..., T], *args: Any) -> T:
        """Run ``work`` at once when this process's memory answers it, else on the worker threads.

        The ORM and the snapshot reads refuse to run on the event loop before they touch the database
        or Redis (``SynchronousOnlyOperation``), and what ``work`` did before that only read or filled
        memory, so running it again from the start on a thread repeats nothing with an effect.
        """
        try:
            return work(*args)
        except SynchronousOnlyOperation:
            return await self.on_threads(work, *args)

    async def on_threads(self, work: Callable[..., T], *args: Any) -> T:
        """Run ``work`` on the worker threads: for writes, which gain nothing from being tried first."""
        return await asyncio.get_running_loop().run_in_executor(self.pool, partial(_fresh_db, work, *args))

    async def allowed(
        self, access_key_id: str, action: str, resource: str, context: dict[str, object] | None = None
    ) -> Any:
        """The policy engine's decision for the key's owner."""
        return await self.db(partial(decide_for_key, context=context), access_key_id, action, resource)

    async def authorize(
        self, access_key_id: str, action: str, resource: str, context: dict[str, object] | None = None
    ) -> None:
        decision = await self.allowed(access_key_id, action, resource, context)
        if not decision.allowed:
            raise deny(getattr(decision, "reason", "") or "no policy allows it")

    async def upstream(self, call: Call) -> Upstream:
        return await self.db(upstream_of, call.space)

    async def send(
        self,
        upstream: Upstream,
        method: str,
        key: str,
        headers: dict[str, str],
        query: dict[str, str] | None = None,
        body: CheckedBody | bytes | None = None,
    ) -> aiohttp.ClientResponse:
        """Send a signed request for ``key`` (of the space; ``""`` for its bucket) to the store.

        The URL is sent exactly as signed (``encoded=True``): nothing on the way may normalize a
        path, so the key stays under the space's prefix (:mod:`gateway.objectkeys` refuses the keys
        that would not).
        """
        assert self.session is not None
        url = upstream.url(key) + (f"?{query_string(query)}" if query else "")
        try:
            if is_ip_address(upstream.host):
                # aiohttp connects to an address literal without asking the resolver: vet it here
                # (an address needs no lookup, so this is CPU work alone).
                vet(upstream.host, upstream.port)
            if upstream.signer.waits():
                signed = await asyncio.to_thread(upstream.signed_headers, method, url, headers)
            else:
                signed = upstream.signed_headers(method, url, headers)
            data = body.pieces() if isinstance(body, CheckedBody) else body
            # Sent exactly as signed: yarl would otherwise decode %2F in the query (stores that build
            # their canonical request from the received query refuse the signature) and fold '..'.
            # A connection that turns certificate checks off does so for its own requests only:
            # aiohttp pools connections by this choice too, so no other connection reuses them.
            return await self.session.request(
                method,
                URL(url, encoded=True),
                headers=signed,
                data=data,
                allow_redirects=False,
                ssl=upstream.verify_tls,
            )
        except AddressRefused as refused:
            log.warning("upstream %s refused by the address policy: %s", upstream.host, refused)
            raise S3Error("ServiceUnavailable", "The space's storage may not be reached from here.", 503) from refused
        except aiohttp.ClientError as failed:
            if isinstance(body, CheckedBody) and body.error is not None:
                raise body.error from failed
            log.warning("upstream %s failed: %s", upstream.host, failed)
            raise S3Error("ServiceUnavailable", "The space's storage could not be reached.", 503) from failed

    async def exchange(
        self,
        upstream: Upstream,
        method: str,
        key: str,
        headers: dict[str, str],
        query: dict[str, str] | None = None,
        body: bytes | None = None,
    ) -> tuple[aiohttp.ClientResponse, bytes]:
        """Send a request whose answer is a small document; answer it read, or the store's error."""
        response = await self.send(upstream, method, key, headers, query, body)
        async with response:
            pieces, size = [], 0
            async for piece in response.content.iter_chunked(READ_CHUNK):
                size += len(piece)
                if size > MAX_DOCUMENT:
                    raise S3Error("InternalError", "The storage's answer is too large.", 502)
                pieces.append(piece)
            answer = b"".join(pieces)
            if response.status >= 300:
                raise upstream_error(response.status, answer)
            error = _error_in(answer)
            if error is not None:
                raise error
            return response, answer


MAX_DOCUMENT = 16 * 1024 * 1024


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


def checked_body(call: Call) -> CheckedBody:
    """The body of a PUT as it must stream: through the check its signature asks for."""
    raw_length = call.request.headers.get("content-length")
    check = call.verified.body_check(int(raw_length) if raw_length and raw_length.isdigit() else None)
    return CheckedBody(call.request, check, call.facts)


async def small_body(call: Call, limit: int) -> bytes:
    """A request document read whole (at most ``limit`` bytes), checked against its signature."""
    length = call.request.headers.get("x-amz-decoded-content-length") or call.request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > limit:
        raise S3Error("EntityTooLarge", f"The request document may be at most {limit} bytes.")
    pieces = []
    size = 0
    async for piece in checked_body(call).pieces():
        size += len(piece)
        if size > limit:
            raise S3Error("EntityTooLarge", f"The request document may be at most {limit} bytes.")
        pieces.append(piece)
    return b"".join(pieces)


def _error_in(answer: bytes) -> S3Error | None:
    """An ``<Error>`` the store answered with status 200 (S3 does that for a copy or a completion
    that fails after it started), as the client's error."""
    if not answer.lstrip().startswith(b"<") or b"<Error>" not in answer[:512]:
        return None
    return upstream_error(500, answer)


def upstream_error(status: int, body: bytes) -> S3Error:
    """The store's refusal as the client's, without the store's bucket or prefix."""
    code = {404: "NoSuchKey", 403: "AccessDenied", 412: "PreconditionFailed", 416: "InvalidRange"}.get(status, "")
    try:
        found = parsed(body).findtext("Code") if body else None
    except S3Error:
        found = None
    code = found or code or "InternalError"
    if code in ("NoSuchBucket", "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch"):
        return S3Error("ServiceUnavailable", "The space's storage refused the gateway; ask an administrator.", 503)
    messages = {
        "NoSuchKey": "The specified key does not exist.",
        "NoSuchUpload": "The specified multipart upload does not exist.",
    }
    return S3Error(code, messages.get(code, f"The storage answered {code}."), status if status >= 400 else 502)
