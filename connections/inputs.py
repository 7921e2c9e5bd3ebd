"""Checks for connection input that any provider may use, with messages that say how to fix it.

Checks only one cloud needs live in its package (``connections/providers/<cloud>/inputs.py``).

Every checker takes the raw value and returns the normalized one, or raises
:class:`ValueError` with a message fit to show next to the field. Messages never repeat
secret values back.
"""

from __future__ import annotations

import ipaddress
import json
import re
import uuid
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.serialization import load_pem_private_key
from cryptography.x509 import load_pem_x509_certificate

from connections import egress
from portal.core.printable import has_control_characters
from portal.web.jsonlimits import JsonTooDeep, check_depth, check_text_depth

MAX_UPLOAD_BYTES = 64 * 1024
PREFIX = re.compile(r"^(?:[A-Za-z0-9!_.*'()-]+/)*$")
CONTROL_MESSAGE = "Remove the control characters (such as NUL, escape or a line break); they are never part of it."


def text(value: Any, *, max_length: int = 500) -> str:
    if not isinstance(value, str):
        raise ValueError("Enter text.")
    value = value.strip()
    if not value:
        raise ValueError("This field is required.")
    if len(value) > max_length:
        raise ValueError(f"Use at most {max_length} characters.")
    printable(value)
    return value


def printable(value: str, *, multiline: bool = False) -> str:
    """Refuse control characters; ``multiline`` allows tab and line breaks (PEM files, JSON text).

    The message never repeats the value, so it is safe for secrets too.
    """
    if has_control_characters(value, multiline=multiline):
        raise ValueError(CONTROL_MESSAGE)
    return value


def is_ip_address(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def guid(value: Any) -> str:
    value = text(value, max_length=64)
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise ValueError("Enter a GUID such as 72f988bf-86f1-41af-91ab-2d7cd011db47.") from None


def url(value: Any) -> str:
    """An http(s) URL with a host that the outbound address policy lets Spaceport connect to.

    Plain http is accepted for stores inside a private network.
    """
    value = url_form(value)
    reachable(value)
    return value


def url_form(value: Any) -> str:
    """An http(s) URL without credentials, query or fragment; where its host points is not asked."""
    value = text(value, max_length=2048).rstrip("/")
    parts = urlsplit(value)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValueError("Enter a URL starting with https:// (or http://), such as https://s3.example.com.")
    if parts.username or parts.password:
        raise ValueError("Do not put credentials in the URL; use the key fields.")
    if parts.query or parts.fragment:
        raise ValueError("Enter the URL without a query string or fragment.")
    return value


def reachable(value: str) -> None:
    """Refuse a URL whose host the outbound address policy refuses, saying why and what would help.

    A person who typed an address inside their own network needs to know that the operator can
    allow it; the bare refusal read like a dead end.
    """
    try:
        egress.check_url(value)
    except egress.AddressRefused as exc:
        if exc.operator_may_allow:
            raise ValueError(f"{exc.message} {egress.OPERATOR_HINT}") from None
        raise ValueError(exc.message) from None


def optional_url(value: Any) -> str:
    if value in (None, ""):
        return ""
    return url(value)


def prefix(value: Any) -> str:
    """Where Spaceport's spaces live inside a bucket: empty, or path segments ending in a slash."""
    if value in (None, ""):
        return ""
    value = text(value, max_length=512)
    if not value.endswith("/"):
        value += "/"
    if value.startswith("/") or not PREFIX.match(value) or "/../" in f"/{value}":
        raise ValueError("Enter a path such as spaceport/ (letters, digits and - _ . ! * ' ( ), no leading slash).")
    return value


def boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "on", "1", "yes"):
        return True
    if value in (None, "", 0) or (isinstance(value, str) and value.lower() in ("false", "off", "0", "no")):
        return False
    raise ValueError("Choose yes or no.")


def secret_text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("This field is required.")
    if len(value) > 4096:
        raise ValueError("This is longer than any valid value (4096 characters).")
    return printable(value.strip())


def allowed_choice(value: Any, allowed: list[str], what: str, *, origin_only: bool, vetted: bool = True) -> str:
    """One of the operator's URLs, compared after the same normalization the settings apply.

    As input, the outbound address policy is applied first, so an inward address is refused with
    its reason even before the list is consulted. A stored choice about to be used
    (``vetted=False``) is held to the list alone: the guarded transport applies the policy as it
    connects, with the one lookup whose address it then connects to.
    """
    value = text(value, max_length=2048).rstrip("/")
    candidate = (url if vetted else url_form)(value if "://" in value else f"https://{value}")
    parts = urlsplit(candidate)
    port = egress.port_of(parts)
    origin = f"{parts.scheme}://{(parts.hostname or '').lower()}{f':{port}' if port else ''}"
    normalized = origin if origin_only else origin + parts.path
    if normalized not in allowed:
        raise ValueError(f"Choose one of the {what} this Spaceport allows: {', '.join(allowed)}.")
    return normalized


def json_document(value: Any, label: str) -> dict[str, Any]:
    if isinstance(value, bytes):
        if len(value) > MAX_UPLOAD_BYTES:
            raise ValueError(f"The {label} is larger than 64 KiB; upload the JSON file itself.")
        value = value.decode("utf-8", errors="replace")
    try:
        if isinstance(value, str):
            if len(value.encode()) > MAX_UPLOAD_BYTES:
                raise ValueError(f"The {label} is larger than 64 KiB; upload the JSON file itself.")
            check_text_depth(value)
            try:
                value = json.loads(value)
            except json.JSONDecodeError as exc:
                raise ValueError(f"The {label} is not valid JSON (line {exc.lineno}, column {exc.colno}).") from None
        check_depth(value)
    except JsonTooDeep as exc:
        raise ValueError(f"The {label} is not a file Google Cloud makes: {exc}") from None
    if not isinstance(value, dict):
        raise ValueError(f"The {label} must be a JSON object.")
    if len(json.dumps(value)) > MAX_UPLOAD_BYTES:
        raise ValueError(f"The {label} is larger than 64 KiB; upload the JSON file itself.")
    printable_strings(value, label)
    return value


def printable_strings(document: Any, label: str) -> None:
    """Control characters hidden in a document's strings (``\\u0000``) are refused like typed ones."""
    pending = [document]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, str) and has_control_characters(item, multiline=True):
            raise ValueError(f"The {label} holds control characters (such as NUL); use the file as downloaded.")


PEM_PRIVATE_KEY = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----", re.DOTALL)


def pem_certificate_with_key(value: Any) -> str:
    """A client certificate for a service principal: the PEM certificate and its private key."""
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    if not isinstance(value, str) or not value.strip():
        raise ValueError("This field is required.")
    value = value.strip()
    if len(value.encode()) > MAX_UPLOAD_BYTES:
        raise ValueError("The certificate file is larger than 64 KiB.")
    printable(value, multiline=True)
    key = PEM_PRIVATE_KEY.search(value)
    if "-----BEGIN CERTIFICATE-----" not in value or key is None:
        raise ValueError("Upload a PEM file holding both the certificate and its private key.")
    try:
        load_pem_x509_certificate(value.encode())
        load_pem_private_key(key.group(0).encode(), password=None)
    except (ValueError, TypeError):
        raise ValueError("The certificate or its private key cannot be read.") from None
    return value
