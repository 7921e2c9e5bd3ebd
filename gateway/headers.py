"""Which headers cross the gateway, each way.

Forwarded to the store: what describes the object (type, encoding, metadata, checksums, tags,
storage class, server-side encryption including SSE-C keys), what makes a request conditional or
partial, and what a copy needs besides its source. Never forwarded: ACLs and grants, which Spaceport
decides itself; a request that asks for one (other than ``private``, the default) or for an object
lock answers ``NotImplemented`` rather than being stored without what it asked for.
"""

from __future__ import annotations

from collections.abc import Iterable

from gateway.errors import S3Error

REQUEST_HEADERS = frozenset(
    {
        "content-type", "content-md5", "content-encoding", "content-language", "content-disposition",
        "cache-control", "expires", "range", "if-match", "if-none-match", "if-modified-since",
        "if-unmodified-since", "x-amz-tagging", "x-amz-storage-class", "x-amz-metadata-directive",
        "x-amz-tagging-directive", "x-amz-copy-source-range", "x-amz-copy-source-if-match",
        "x-amz-copy-source-if-none-match", "x-amz-copy-source-if-modified-since",
        "x-amz-copy-source-if-unmodified-since", "x-amz-website-redirect-location",
    }
)  # fmt: skip
REQUEST_PREFIXES = (
    "x-amz-meta-", "x-amz-checksum-", "x-amz-server-side-encryption",
    "x-amz-copy-source-server-side-encryption-customer-",
)  # fmt: skip
RESPONSE_HEADERS = frozenset(
    {
        "content-type", "content-length", "content-range", "content-encoding", "content-language",
        "content-disposition", "cache-control", "expires", "etag", "last-modified", "accept-ranges",
        "x-amz-version-id", "x-amz-storage-class", "x-amz-mp-parts-count", "x-amz-tagging-count",
        "x-amz-delete-marker", "x-amz-copy-source-version-id", "x-amz-abort-date", "x-amz-abort-rule-id",
        "x-amz-website-redirect-location", "x-amz-expiration", "x-amz-restore",
    }
)  # fmt: skip
RESPONSE_PREFIXES = ("x-amz-meta-", "x-amz-checksum-", "x-amz-server-side-encryption")
PRIVATE_ACLS = ("private", "bucket-owner-full-control")
REFUSED = ("x-amz-grant-", "x-amz-object-lock-")
# Names a checksum algorithm rather than carrying a value: the gateway checks trailers itself and
# sends the store a plain body, so the store must not wait for a checksum that will not come.
NOT_VALUES = frozenset({"x-amz-checksum-algorithm", "x-amz-checksum-type", "x-amz-sdk-checksum-algorithm"})


def _chosen(headers: Iterable[tuple[str, str]], names: frozenset[str], prefixes: tuple[str, ...]) -> dict[str, str]:
    return {
        name.lower(): value
        for name, value in headers
        if (name.lower() in names or name.lower().startswith(prefixes)) and name.lower() not in NOT_VALUES
    }


def request_headers(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    """The client's headers that go to the store, or ``NotImplemented`` for an ACL or lock it asks for."""
    pairs = list(headers)
    for name, value in pairs:
        lower = name.lower()
        if lower == "x-amz-acl" and value.strip() not in PRIVATE_ACLS:
            raise S3Error("NotImplemented", "ACLs are not served: Spaceport grants and policies decide access.")
        if lower.startswith(REFUSED):
            raise S3Error("NotImplemented", f"{lower} is not served by the gateway.")
    return _chosen(pairs, REQUEST_HEADERS, REQUEST_PREFIXES)


def response_headers(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    """The store's answer headers the client sees (never its request ids or its own host)."""
    return _chosen(headers, RESPONSE_HEADERS, RESPONSE_PREFIXES)
