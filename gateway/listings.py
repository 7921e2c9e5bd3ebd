"""What a bucket shows: ListBuckets, HeadBucket, GetBucketLocation, ListObjects (v1 and v2) and
ListMultipartUploads, with every name the store answers rewritten from its bucket and the space's
prefix to the gateway's bucket and the client's keys.

Listings ask the store for the space's prefix joined with the client's prefix, marker or start
key, and strip the space's prefix from every key, prefix and marker in the answer. The store is
asked without ``encoding-type``; the gateway URL-encodes the answer itself when the client asked.
Continuation tokens and upload id markers are the store's and pass through unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote
from xml.sax.saxutils import escape

from aiohttp import web

from gateway.buckets import listable_buckets
from gateway.objectkeys import checked_prefix
from gateway.proxy import Proxy
from gateway.s3operations import Call
from gateway.s3xml import S3_NS, document, parsed, tag_of
from gateway.sigv4 import region

XML = "application/xml"
# Elements naming a key or a prefix of one, in every listing.
KEY_ELEMENTS = ("Prefix", "Key", "StartAfter", "Marker", "NextMarker", "KeyMarker", "NextKeyMarker")
# Query parameters naming a key or a prefix of one, joined to the space's prefix on the way up.
KEY_PARAMS = ("prefix", "start-after", "marker", "key-marker")
PASSED = {
    "ListObjectsV2": ("list-type", "delimiter", "max-keys", "continuation-token", "fetch-owner"),
    "ListObjects": ("delimiter", "max-keys"),
    "ListMultipartUploads": ("uploads", "delimiter", "max-uploads", "upload-id-marker"),
}


async def list_buckets(proxy: Proxy, call: Call) -> web.Response:
    """The spaces of the key's organization its owner may list, as buckets."""
    buckets = await proxy.db(listable_buckets, call.access_key_id)
    entries = "".join(
        f"<Bucket><Name>{escape(name)}</Name><CreationDate>{space.created.strftime('%Y-%m-%dT%H:%M:%S.000Z')}"
        "</CreationDate></Bucket>"
        for name, space in buckets
    )
    body = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<ListAllMyBucketsResult xmlns="{S3_NS}">'
        f"<Owner><ID>{escape(call.access_key_id)}</ID></Owner><Buckets>{entries}</Buckets></ListAllMyBucketsResult>"
    )
    return web.Response(body=body.encode(), content_type=XML)


async def head_bucket(proxy: Proxy, call: Call) -> web.Response:
    """The bucket exists and may be listed (authorized before this is called); no store round trip."""
    return web.Response(headers={"x-amz-bucket-region": region()})


async def bucket_location(proxy: Proxy, call: Call) -> web.Response:
    """The gateway's region, as AWS answers it (empty for ``us-east-1``)."""
    where = region()
    text = "" if where == "us-east-1" else escape(where)
    body = f'<?xml version="1.0" encoding="UTF-8"?>\n<LocationConstraint xmlns="{S3_NS}">{text}</LocationConstraint>'
    return web.Response(body=body.encode(), content_type=XML)


async def list_objects(proxy: Proxy, call: Call) -> web.Response:
    """ListObjectsV2, ListObjects and ListMultipartUploads: the same request to the store, rewritten back."""
    upstream = await proxy.upstream(call)
    prefix = upstream.location.prefix
    params = {name: call.query[name] for name in PASSED[call.operation.name] if name in call.query}
    params["prefix"] = prefix + checked_prefix(call.query.get("prefix", ""))
    for name in KEY_PARAMS[1:]:
        if name in call.query:
            params[name] = prefix + checked_prefix(call.query[name])
    _, answer = await proxy.exchange(upstream, "GET", "", {}, params)
    encode = call.query.get("encoding-type") == "url"
    listing = rewritten_listing(answer, call.bucket, prefix, encode, call.access_key_id)
    return web.Response(body=listing, content_type=XML)


def rewritten_listing(body: bytes, bucket: str, prefix: str, encode: bool, owner: str) -> bytes:
    """A store's listing as the client's: its bucket, its keys without the space's prefix, and
    the caller's key as the owner and initiator (the store's account is not the client's business)."""
    root = parsed(body)
    rewrite = _key_rewriter(prefix, encode)
    for element in root.iter():
        tag = tag_of(element)
        if tag in ("Name", "Bucket"):
            element.text = bucket
        elif tag in ("ID", "DisplayName"):
            element.text = owner
        elif tag in KEY_ELEMENTS:
            element.text = rewrite(element.text or "")
        elif tag == "Delimiter" and encode:
            element.text = quote(element.text or "", safe="/")
        elif tag == "EncodingType":
            element.text = "url"
    if encode and not [child for child in root if tag_of(child) == "EncodingType"]:
        element = root.makeelement(f"{{{S3_NS}}}EncodingType", {})
        element.text = "url"
        root.append(element)
    return document(root)


def _key_rewriter(prefix: str, encode: bool) -> Callable[[str], str]:
    def strip(value: str) -> str:
        value = value[len(prefix) :] if value.startswith(prefix) else value
        return quote(value, safe="/") if encode else value

    return strip
