"""Reading a request body with a deadline, so a client that stops sending cannot hold a request
(and its upstream connection) open forever."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from aiohttp import web
from django.conf import settings

from gateway.errors import S3Error
from gateway.expect import ask_for_body


def body_timeout() -> float:
    return float(settings.SPACEPORT_S3_GATEWAY_BODY_TIMEOUT)


async def received(request: web.Request, size: int) -> AsyncIterator[bytes]:
    """The body in pieces of at most ``size`` bytes; ``RequestTimeout`` when the client sends
    nothing for ``SPACEPORT_S3_GATEWAY_BODY_TIMEOUT`` seconds, ``IncompleteBody`` when it hangs up
    before the end. A client waiting on ``Expect: 100-continue`` is told to send it now."""
    timeout = body_timeout()
    await ask_for_body(request)
    while True:
        try:
            async with asyncio.timeout(timeout):
                piece = await request.content.read(size)
        except TimeoutError as slow:
            raise S3Error(
                "RequestTimeout",
                "Your socket connection to the server was not read from or written to within the timeout period.",
            ) from slow
        except (ConnectionError, EOFError) as gone:
            raise S3Error("IncompleteBody", "The request body ended before its declared length.") from gone
        if not piece:
            return
        yield piece
