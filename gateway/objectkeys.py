"""Which object keys the gateway passes on: none that could reach outside the space's prefix.

A space is a prefix in its organization's bucket, and some stores (``rclone serve s3`` over a
folder, many S3-compatible servers) map keys to file paths, where ``a/../b`` is ``b``. HTTP clients
normalize too: yarl turns ``/raw/../x`` and ``/raw/%2e%2e/x`` into ``/x``. So a key whose segments
(after the one decoding S3 does) include ``.`` or ``..``, an empty segment other than a trailing
``/``, or a backslash (a separator on some stores) is refused before anything is sent upstream.
"""

from __future__ import annotations

from gateway.errors import S3Error

MAX_KEY_BYTES = 1024


def key_problem(key: str) -> str | None:
    """Why ``key`` (decoded) may not be used in a space, or ``None`` when it may."""
    if len(key.encode("utf-8", "surrogatepass")) > MAX_KEY_BYTES:
        return "is longer than 1024 bytes"
    if "\\" in key:
        return "contains a backslash"
    if any(ord(character) < 0x20 or ord(character) == 0x7F for character in key):
        return "contains a control character"
    segments = key.split("/")
    if segments[-1] == "":
        segments = segments[:-1]  # "dir/" is a folder marker, a key S3 tools make
    for segment in segments:
        if segment in (".", ".."):
            return f"has a '{segment}' segment"
        if segment == "":
            return "has an empty segment ('//' or a leading '/')"
    return None


def checked_key(key: str) -> str:
    """``key`` itself, or :class:`S3Error` ``InvalidArgument`` naming what is wrong with it."""
    problem = key_problem(key)
    if problem is not None:
        raise S3Error("InvalidArgument", f"The object key {problem}; such keys are refused by the gateway.")
    return key


def checked_prefix(prefix: str) -> str:
    """A listing prefix or marker: any key's start is allowed, but not ``..``, ``.`` or ``//`` segments."""
    if not prefix:
        return prefix
    problem = key_problem(prefix.rsplit("/", 1)[0] + "/" if "/" in prefix else "")
    last = prefix.rsplit("/", 1)[-1]
    if problem is None and "\\" in last:
        problem = "contains a backslash"
    if problem is None and last in (".", ".."):
        problem = f"has a '{last}' segment"
    if problem is not None:
        raise S3Error("InvalidArgument", f"The prefix {problem}; such prefixes are refused by the gateway.")
    return prefix
