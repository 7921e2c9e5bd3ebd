"""``Expect: 100-continue``, answered only when the gateway is about to read the body.

aiohttp's default answers ``100 Continue`` as soon as the headers arrive, before the handler runs:
the client would send its body to a request whose signature, key and grants were never checked.
The gateway's route uses :func:`expect_nothing_yet` instead, and whatever reads a request body
calls :func:`ask_for_body` first, after every check that can refuse the request has passed; a
request refused earlier gets its error document while the client still holds the body back, and
:func:`close_after_unasked_body` ends that connection, since the client never sends the body the
server would otherwise wait for before reading the next request.

An expectation other than ``100-continue`` is refused with 417, as aiohttp's default refuses it,
but by the gateway's handler (:func:`refuse_unmet_expectation`) rather than the route's expect
handler: that one runs before the middleware that logs and counts requests, and would answer in
plain text where S3 clients read an XML error document with a request id.
"""

from __future__ import annotations

from aiohttp import web
from aiohttp.http import HttpVersion11

from gateway.errors import S3Error

_ASKED = web.RequestKey("asked for the body", bool)


def _expects_continue(request: web.BaseRequest) -> bool:
    return request.version == HttpVersion11 and request.headers.get("Expect", "").lower() == "100-continue"


async def expect_nothing_yet(request: web.Request) -> None:
    """The route's expect handler: answers nothing, leaving ``100 Continue`` to :func:`ask_for_body`
    and any other expectation to :func:`refuse_unmet_expectation`."""


def refuse_unmet_expectation(request: web.BaseRequest) -> None:
    """Refuse an HTTP/1.1 expectation other than ``100-continue``: the gateway can meet no other.
    An HTTP/1.0 request's ``Expect`` is ignored, as HTTP requires (and aiohttp does)."""
    expectation = request.headers.get("Expect", "")
    if expectation and request.version == HttpVersion11 and expectation.lower() != "100-continue":
        raise S3Error("ExpectationFailed", f"Unknown Expect: {expectation}")


async def ask_for_body(request: web.Request) -> None:
    """Tell a client waiting on ``Expect: 100-continue`` to send its body (once per request)."""
    if not _expects_continue(request) or request.get(_ASKED):
        return
    request[_ASKED] = True
    await request.writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
    request.writer.output_size = 0  # the interim answer is not part of the response's size


async def close_after_unasked_body(request: web.Request, response: web.StreamResponse) -> None:
    """An answer given without asking for an announced body closes its connection, at once: the
    server does not linger waiting for a body the client will not send."""
    if _expects_continue(request) and not request.get(_ASKED) and not request.content.at_eof():
        response.force_close()
        request.content.feed_eof()
