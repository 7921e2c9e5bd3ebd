"""DeleteObjects: each key authorized as ``s3:DeleteObject`` on its own.

The request document is read whole (at most :data:`MAX_DELETE_DOCUMENT` bytes, 1,000 keys, as S3
allows), checked against its signature and against ``Content-MD5`` or the ``x-amz-checksum-*`` it
carries (S3 requires one of them). Keys the policy engine refuses, or that could leave the space
(:mod:`gateway.objectkeys`), are answered as ``<Error>`` entries and never sent; the rest go to
the store in one request under the space's prefix, and its answer comes back with the prefix
stripped, the refused keys added. ``Quiet`` is passed on: the store then lists only its errors.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
from xml.etree import ElementTree
from xml.sax.saxutils import escape

from aiohttp import web

from gateway.checksums import ALGORITHMS, encoded, new_checksum
from gateway.errors import S3Error
from gateway.objectkeys import key_problem
from gateway.proxy import Proxy, small_body
from gateway.s3operations import Call
from gateway.s3xml import S3_NS, child_text, client_document, document, parsed, tag_of

MAX_KEYS = 1000
MAX_DELETE_DOCUMENT = 2 * 1024 * 1024
XML = "application/xml"


def _check_digest(call: Call, body: bytes) -> None:
    """The document's ``Content-MD5`` or header checksum, as S3 requires one (a trailer is checked
    by the body check itself)."""
    headers = call.request.headers
    md5 = headers.get("content-md5")
    if md5 is not None:
        if not hmac.compare_digest(base64.b64encode(hashlib.md5(body).digest()).decode(), md5.strip()):  # noqa: S324
            raise S3Error("BadDigest", "The Content-MD5 you specified did not match what was received.")
        return
    for name in ALGORITHMS:
        if name in headers:
            checksum = new_checksum(name)
            checksum.update(body)
            if not hmac.compare_digest(encoded(checksum), headers[name].strip()):
                raise S3Error("BadDigest", f"The {name} you specified did not match what was received.")
            return
    if "x-amz-trailer" not in headers:
        raise S3Error("InvalidRequest", "Missing required header for this request: Content-MD5.")


async def delete_objects(proxy: Proxy, call: Call) -> web.Response:
    body = await small_body(call, MAX_DELETE_DOCUMENT)
    _check_digest(call, body)
    request = client_document(body, "Delete")
    quiet = (child_text(request, "Quiet") or "").strip().lower() == "true"
    wanted = [
        (child_text(entry, "Key"), child_text(entry, "VersionId")) for entry in request if tag_of(entry) == "Object"
    ]
    if not wanted or len(wanted) > MAX_KEYS:
        raise S3Error("MalformedXML", f"A Delete document names 1 to {MAX_KEYS} objects.")
    if [key for key, _ in wanted if not key]:
        raise S3Error("MalformedXML", "Every Object of a Delete document names its Key.")

    async def verdict(key: str, version: str | None) -> tuple[str, str] | None:
        problem = key_problem(key)
        if problem is not None:
            return "InvalidArgument", f"The object key {problem}."
        action = "s3:DeleteObjectVersion" if version else "s3:DeleteObject"
        decision = await proxy.allowed(call.access_key_id, action, f"{call.bucket}/{key}")
        return None if decision.allowed else ("AccessDenied", "Access Denied")

    verdicts = await asyncio.gather(*(verdict(key or "", version) for key, version in wanted))
    refused = [(key or "", verdict) for (key, _), verdict in zip(wanted, verdicts, strict=True) if verdict]
    allowed = [(key or "", version) for (key, version), verdict in zip(wanted, verdicts, strict=True) if not verdict]
    result = ElementTree.Element(f"{{{S3_NS}}}DeleteResult")
    if allowed:
        upstream = await proxy.upstream(call)
        prefix = upstream.location.prefix
        forwarded = _delete_document(allowed, prefix, quiet)
        md5 = base64.b64encode(hashlib.md5(forwarded).digest()).decode()  # noqa: S324 - S3 asks for MD5
        headers = {"content-md5": md5, "content-type": "application/xml"}
        _, answer = await proxy.exchange(upstream, "POST", "", headers, {"delete": ""}, forwarded)
        for entry in parsed(answer):
            for element in entry.iter():
                element.tag = f"{{{S3_NS}}}{tag_of(element)}"
                if tag_of(element) == "Key" and (element.text or "").startswith(prefix):
                    element.text = (element.text or "")[len(prefix) :]
            result.append(entry)
    for key, (code, message) in refused:
        error = ElementTree.SubElement(result, f"{{{S3_NS}}}Error")
        for name, text in (("Key", key), ("Code", code), ("Message", message)):
            ElementTree.SubElement(error, f"{{{S3_NS}}}{name}").text = text
    return web.Response(body=document(result), content_type=XML)


def _delete_document(allowed: list[tuple[str, str | None]], prefix: str, quiet: bool) -> bytes:
    objects = "".join(
        f"<Object><Key>{escape(prefix + key)}</Key>"
        + (f"<VersionId>{escape(version)}</VersionId>" if version else "")
        + "</Object>"
        for key, version in allowed
    )
    quiet_element = "<Quiet>true</Quiet>" if quiet else ""
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<Delete xmlns="{S3_NS}">{quiet_element}{objects}</Delete>'.encode()
