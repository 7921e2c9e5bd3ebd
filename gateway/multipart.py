"""Multipart uploads: CreateMultipartUpload, CompleteMultipartUpload, AbortMultipartUpload and
ListParts (UploadPart streams like PutObject, :mod:`gateway.objects`; ListMultipartUploads is a
listing, :mod:`gateway.listings`).

Upload ids are the store's and pass through. Answers naming the bucket or the key are rewritten
to the client's; the completion document is read whole (it is small, bounded by
:data:`MAX_COMPLETION`), checked against its signature, parsed and forwarded as sent.
"""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web

from gateway.errors import S3Error
from gateway.headers import request_headers, response_headers
from gateway.proxy import Proxy, small_body
from gateway.s3operations import Call
from gateway.s3xml import client_document, rewritten
from gateway.upstream import Upstream

XML = "application/xml"
# 10,000 parts of about a hundred bytes each (part number, ETag, a checksum), with room to spare.
MAX_COMPLETION = 4 * 1024 * 1024
MAX_PARTS = 10_000


def _rewrite(call: Call, upstream: Upstream) -> dict[str, Callable[[str], str]]:
    prefix = upstream.location.prefix

    def key(value: str) -> str:
        return value[len(prefix) :] if value.startswith(prefix) else value

    return {
        "Bucket": lambda _value: call.bucket,
        "Key": key,
        "Location": lambda _value: call.location(call.key),
        # ListParts' Owner and Initiator: the caller's key, not the store's account.
        "ID": lambda _value: call.access_key_id,
        "DisplayName": lambda _value: call.access_key_id,
    }


async def _answer(proxy: Proxy, call: Call, method: str, body: bytes | None = None) -> web.Response:
    """Send the request for the space's key; its answer comes back with bucket, key and location rewritten."""
    upstream = await proxy.upstream(call)
    headers = request_headers(call.request.headers.items())
    if body is not None:
        # The completion document's own headers described the client's body to the gateway.
        headers = {
            name: value for name, value in headers.items() if not name.startswith(("content-", "x-amz-checksum-"))
        }
    response, answer = await proxy.exchange(upstream, method, call.key, headers, call.query, body)
    passed = response_headers(response.headers.items())
    passed.pop("content-length", None)
    if not answer:
        return web.Response(status=response.status, headers=passed)
    passed.pop("content-type", None)
    document = rewritten(answer, _rewrite(call, upstream))
    return web.Response(status=response.status, body=document, content_type=XML, headers=passed)


async def create(proxy: Proxy, call: Call) -> web.Response:
    return await _answer(proxy, call, "POST")


async def complete(proxy: Proxy, call: Call) -> web.Response:
    body = await small_body(call, MAX_COMPLETION)
    document = client_document(body, "CompleteMultipartUpload")
    if len(document) > MAX_PARTS:
        raise S3Error("MalformedXML", f"A multipart upload has at most {MAX_PARTS} parts.")
    return await _answer(proxy, call, "POST", body)


async def abort(proxy: Proxy, call: Call) -> web.Response:
    return await _answer(proxy, call, "DELETE")


async def list_parts(proxy: Proxy, call: Call) -> web.Response:
    return await _answer(proxy, call, "GET")
