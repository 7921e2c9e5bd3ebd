"""Around every S3 request: its access log line, its metrics and its key's use, all read from the
request's :class:`~gateway.facts.RequestFacts` once the answer is out.

The access log (logger ``spaceport.gateway.access``, one JSON object a line through the project's
logging configuration) names the request, never its credentials: no secret, no signature, no
``Authorization`` header and no query string (a presigned URL's query is its signature).

A client that hangs up while its answer streams is an everyday event: it is counted as status 499
and named in one line of the gateway's log, not left to aiohttp to report as a server error with
a traceback.
"""

from __future__ import annotations

import asyncio
import logging
from time import perf_counter

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from gateway import metrics
from gateway.facts import FACTS, RequestFacts
from gateway.usage import KeyUsage

access_log = logging.getLogger("spaceport.gateway.access")
log = logging.getLogger("spaceport.gateway")


def access_fields(request: web.Request, facts: RequestFacts, seconds: float) -> dict[str, object]:
    return {
        "request_id": facts.request_id,
        "access_key_id": facts.access_key_id,
        "bucket": facts.bucket,
        "operation": facts.operation,
        "method": request.method,
        "status": facts.status,
        "error_code": facts.error_code,
        "bytes_in": facts.bytes_in,
        "bytes_out": facts.bytes_out,
        "duration_ms": round(seconds * 1000, 3),
        "remote": request.remote or "",
    }


def observer(usage: KeyUsage) -> Middleware:
    """The middleware that logs, measures and counts each request the S3 handler answered."""

    @web.middleware
    async def observe(request: web.Request, handler: Handler) -> web.StreamResponse:
        failure: BaseException | None = None
        try:
            return await handler(request)
        except ConnectionError as raised:
            failure = raised
            if not client_went_away(request):
                raise
            facts = request.get(FACTS)
            if facts is not None:
                log.info(
                    "%s %s %s %s: the client went away after %d bytes of the answer",
                    facts.request_id, request.method, facts.operation or "-", request.path, facts.bytes_out,
                )  # fmt: skip
            # Never reaches the client: aiohttp finds the connection closed and lets it go quietly.
            return web.Response(status=499)
        except BaseException as raised:
            failure = raised
            raise
        finally:
            facts = request.get(FACTS)
            if facts is not None:
                finish(request, facts, failure, usage)

    return observe


def client_went_away(request: web.Request) -> bool:
    """Whether the client's own connection is gone, which makes a failed write the client's doing;
    a store's connection failing leaves the client's open, and stays a server error."""
    transport = request.transport
    return transport is None or transport.is_closing()


def finish(request: web.Request, facts: RequestFacts, failure: BaseException | None, usage: KeyUsage) -> None:
    seconds = perf_counter() - facts.started
    disconnected = isinstance(failure, asyncio.CancelledError | ConnectionError)
    if failure is not None:
        # The answer broke off after it began (the store or the client went away mid-body).
        facts.status = facts.status or (499 if disconnected else 500)
        facts.error_code = facts.error_code or ("ClientClosedRequest" if disconnected else "InternalError")
    backend_failed = facts.status >= 500 and not disconnected
    access_log.info(
        "%s %s %s",
        request.method,
        facts.operation or "-",
        facts.status,
        extra={"fields": access_fields(request, facts, seconds)},
    )
    metrics.observe(facts, seconds, backend_failed)
    if facts.access_key_id:
        usage.note(facts.access_key_id)
