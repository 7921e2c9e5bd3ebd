"""Single objects: GetObject, HeadObject, PutObject, DeleteObject and UploadPart, streamed both ways.

A body goes to the store through the check its signature asks for (:mod:`gateway.payload`,
:mod:`gateway.chunked`), so it is never held whole and never completes upstream when the check
fails; an answer comes back in pieces of :data:`gateway.proxy.READ_CHUNK`.
"""

from __future__ import annotations

from aiohttp import web

from gateway.errors import S3Error
from gateway.headers import request_headers, response_headers
from gateway.proxy import READ_CHUNK, CheckedBody, Proxy, checked_body, upstream_error
from gateway.s3operations import Call


def upload_headers(call: Call) -> dict[str, str]:
    """The headers of a PUT with a body: its decoded length, and no ``aws-chunked`` encoding,
    which is how the body came to the gateway, not how it is stored."""
    headers = request_headers(call.request.headers.items())
    length = call.request.headers.get("x-amz-decoded-content-length") or call.request.headers.get("content-length")
    if length is None or not length.isdigit():
        raise S3Error("MissingContentLength", "You must provide the Content-Length HTTP header.")
    headers["content-length"] = length
    encodings = [e.strip() for e in headers.pop("content-encoding", "").split(",") if e.strip()]
    if [e for e in encodings if e != "aws-chunked"]:
        headers["content-encoding"] = ", ".join(e for e in encodings if e != "aws-chunked")
    return headers


async def serve(proxy: Proxy, call: Call) -> web.StreamResponse:
    """Any of the single-object operations, to the space's key."""
    method = call.request.method
    body: CheckedBody | None = None
    if method == "PUT":
        headers = upload_headers(call)
        body = checked_body(call)
    else:
        headers = request_headers(call.request.headers.items())
    upstream = await proxy.upstream(call)
    response = await proxy.send(upstream, method, call.key, headers, call.query or None, body)
    async with response:
        if response.status >= 300 and response.status != 304:
            raise upstream_error(response.status, await response.read())
        answered = response_headers(response.headers.items())
        status = response.status
        if "content-range" in answered:
            # A part is 206 (some stores answer 200), and a checksum describes the whole object,
            # never the part: a client checking it would reject the part.
            status = 206
            answered = {name: value for name, value in answered.items() if not name.startswith("x-amz-checksum-")}
        answer = web.StreamResponse(status=status, headers=answered)
        if method == "HEAD" and "content-length" in response.headers:
            answer.content_length = int(response.headers["content-length"])
        await answer.prepare(call.request)
        if method == "GET":
            async for piece in response.content.iter_chunked(READ_CHUNK):
                call.facts.bytes_out += len(piece)
                await answer.write(piece)
        await answer.write_eof()
        return answer
