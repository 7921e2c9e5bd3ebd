"""The canonical request of SigV4, rebuilt from the request exactly as it arrived.

S3 signs the path as sent: it is URI-encoded once (S3 does not double-encode) and never normalised,
so ``..`` and ``//`` stay where the client put them and a key with them signs as itself. The path
and query are decoded and encoded again with AWS's ``UriEncode`` so that a client that left a safe
character unencoded (or encoded one that needs none) still matches what it signed.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from urllib.parse import quote, unquote_to_bytes

Headers = Mapping[str, str] | Iterable[tuple[str, str]]

_SPACES = re.compile(r"\s+")
# Text made only of characters UriEncode leaves alone encodes to itself: most names and values are.
_UNRESERVED = re.compile(r"[A-Za-z0-9_.~-]*")
_UNRESERVED_PATH = re.compile(r"[A-Za-z0-9_.~/-]*")


def header_pairs(headers: Headers) -> list[tuple[str, str]]:
    """The headers as (lower-case name, value) pairs, repeated names kept in order."""
    items = headers.items() if isinstance(headers, Mapping) else headers
    return [(name.lower(), value) for name, value in items]


def header_values(headers: Headers) -> dict[str, str]:
    """One value per lower-case name: repeated headers joined with commas, as SigV4 canonicalises them."""
    joined: dict[str, list[str]] = {}
    for name, value in header_pairs(headers):
        joined.setdefault(name, []).append(_SPACES.sub(" ", value.strip()))
    return {name: ",".join(values) for name, values in joined.items()}


def uri_encode(text: str | bytes, *, slash: bool) -> str:
    """AWS's ``UriEncode``: everything but ``A-Za-z0-9-_.~`` percent-encoded (``/`` kept in paths)."""
    if isinstance(text, str) and (_UNRESERVED_PATH if slash else _UNRESERVED).fullmatch(text):
        return text
    return quote(text, safe="/~" if slash else "~")


def canonical_uri(raw_path: str) -> str:
    """The path as S3 signs it: decoded once and encoded once, segments untouched."""
    if raw_path and _UNRESERVED_PATH.fullmatch(raw_path):
        return raw_path
    return uri_encode(unquote_to_bytes(raw_path or "/"), slash=True)


def query_pairs(raw_query: str) -> list[tuple[str, str]]:
    """The decoded (name, value) pairs of a raw query string, blanks and repeats kept.

    Bytes that are not UTF-8 are kept as surrogates, so they encode back to exactly what was sent.
    """
    pairs = []
    for part in raw_query.split("&") if raw_query else []:
        if not part:
            continue
        name, _, value = part.partition("=")
        pairs.append((_decoded(name), _decoded(value)))
    return pairs


def _decoded(text: str) -> str:
    if "%" not in text:
        return text
    return unquote_to_bytes(text).decode("utf-8", "surrogateescape")


def canonical_query(pairs: Iterable[tuple[str, str]], *, leave_out: str = "") -> str:
    """The sorted, encoded query; ``leave_out`` names the one parameter not signed (the signature)."""
    encoded = sorted((_encoded(name), _encoded(value)) for name, value in pairs if name != leave_out)
    return "&".join(f"{name}={value}" for name, value in encoded)


def _encoded(text: str) -> str:
    if _UNRESERVED.fullmatch(text):
        return text
    return uri_encode(text.encode("utf-8", "surrogateescape"), slash=False)


def canonical_request(
    method: str,
    raw_path: str,
    query: str,
    headers: Mapping[str, str],
    signed_headers: list[str],
    payload_hash: str,
) -> str:
    """The canonical request over ``signed_headers`` of ``headers`` (as :func:`header_values` answers them)."""
    lines = "".join(f"{name}:{headers.get(name, '')}\n" for name in signed_headers)
    return "\n".join([method.upper(), canonical_uri(raw_path), query, lines, ";".join(signed_headers), payload_hash])


def sha256_hex(data: bytes | str) -> str:
    return hashlib.sha256(data.encode() if isinstance(data, str) else data).hexdigest()
