"""CopyObject and UploadPartCopy: the store copies, the gateway names the source for it.

``x-amz-copy-source`` (``[/]<bucket>/<key>[?versionId=<id>]``, URL-encoded) must name a bucket of
the key's own organization; it is authorized as ``s3:GetObject`` (``s3:GetObjectVersion`` with a
version) on the source, on top of ``s3:PutObject`` on the destination, and rewritten to where the
source lives in the store. All spaces of an organization live on its one active connection, so the
store can always copy within itself; a source on another endpoint or with other credentials (which
would need the gateway to stream a GET into a PUT) answers ``NotImplemented``.
"""

from __future__ import annotations

from urllib.parse import quote, unquote

from aiohttp import web

from gateway.buckets import space_of
from gateway.errors import S3Error
from gateway.headers import request_headers, response_headers
from gateway.objectkeys import checked_key
from gateway.proxy import Proxy
from gateway.s3operations import Call
from gateway.upstream import Upstream, upstream_of

XML = "application/xml"


def copy_source(header: str) -> tuple[str, str, str]:
    """The bucket, key and version (``""`` for none) a copy source names."""
    raw, _, version = header.partition("?versionId=")
    path = unquote(raw)
    path = path[1:] if path.startswith("/") else path
    bucket, _, key = path.partition("/")
    if not bucket or not key or "?" in raw:
        raise S3Error("InvalidArgument", "Copy Source must mention the source bucket and key: sourcebucket/sourcekey.")
    return bucket, key, unquote(version)


def _same_store(one: Upstream, other: Upstream) -> bool:
    """Both signed by the one signer of one connection (it is one per connection), at one endpoint."""
    return one.endpoint == other.endpoint and one.signer is other.signer


async def copy(proxy: Proxy, call: Call) -> web.Response:
    """Authorize the source, rewrite it, and let the store copy; its answer passes through."""
    bucket, key, version = copy_source(call.request.headers["x-amz-copy-source"])
    checked_key(key)
    source_space = await proxy.db(space_of, call.access_key_id, bucket)
    if source_space is None:
        raise S3Error("NoSuchBucket", "The bucket of the copy source does not exist.")
    action = "s3:GetObjectVersion" if version else "s3:GetObject"
    await proxy.authorize(call.access_key_id, action, f"{bucket}/{key}")
    upstream = await proxy.upstream(call)
    source = upstream if source_space.pk == call.space.pk else await proxy.db(upstream_of, source_space)
    if not _same_store(upstream, source):
        raise S3Error("NotImplemented", "A copy between spaces on different storage connections is not served.")
    headers = request_headers(call.request.headers.items())
    named = quote(f"{source.location.bucket}/{source.location.key(key)}", safe="/~")
    headers["x-amz-copy-source"] = f"/{named}" + (f"?versionId={quote(version, safe='')}" if version else "")
    response, answer = await proxy.exchange(upstream, "PUT", call.key, headers, call.query or None)
    passed = response_headers(response.headers.items())
    passed.pop("content-length", None)
    passed.pop("content-type", None)
    return web.Response(status=response.status, body=answer, content_type=XML, headers=passed)
