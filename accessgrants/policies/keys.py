"""The request facts a policy's conditions and variables may ask about.

AWS compares condition key names without regard to case; Spaceport keeps every key in lower case,
in policies and in the request context alike, so a lookup is one dictionary access. A request
context is a mapping from these keys to the request's values (strings, or a bool, number or
datetime where that is the natural type); a key the request does not have is simply absent.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

PRINCIPAL_TAG = "aws:principaltag/"
CLOCK_KEYS = frozenset({"aws:currenttime", "aws:epochtime"})

# key -> what it holds; the gateway fills these from each request
CONDITION_KEYS: dict[str, str] = {
    "s3:prefix": "the prefix a listing asks for",
    "s3:delimiter": "the delimiter a listing asks for",
    "s3:max-keys": "the most keys a listing asks for",
    "aws:sourceip": "the caller's IP address",
    "aws:currenttime": "when the request arrived",
    "aws:epochtime": "when the request arrived, in seconds since 1970",
    "aws:securetransport": "whether the request came over TLS",
    "aws:username": "the name of the key's owner",
    "aws:userid": "the id of the key's owner",
}


def canonical_key(name: str) -> str | None:
    """The key in its lookup form, or None if no request carries such a key."""
    key = name.strip().lower()
    if key in CONDITION_KEYS:
        return key
    if key.startswith(PRINCIPAL_TAG) and len(key) > len(PRINCIPAL_TAG):
        return key
    return None


class RequestFacts(dict[str, object]):
    """A request context whose keys are already in lookup form: build one per request with
    :func:`request_facts` and every question about that request skips the normalizing."""


def request_facts(context: Mapping[str, object] | None = None, **facts: object) -> RequestFacts:
    """The request context in lookup form, from a mapping in any case (``{"aws:SourceIp": ...}``)."""
    merged = {**(context or {}), **facts}
    return RequestFacts((key.lower(), value) for key, value in merged.items() if value is not None)


def normalize_context(context: Mapping[str, object] | None) -> RequestFacts:
    """A request context with every key in lookup form (unchanged if it already is)."""
    if isinstance(context, RequestFacts):
        return context
    return request_facts(context)


def context_text(value: object) -> str:
    """A context value as policy text: ``true``/``false``, ISO 8601 in UTC, or the value itself."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return str(value)
