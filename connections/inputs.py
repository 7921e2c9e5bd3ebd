"""Checks for each piece of connection input, with messages that say how to fix it.

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
from django.conf import settings

from connections import egress
from portal.core.printable import has_control_characters
from portal.web.jsonlimits import JsonTooDeep, check_depth, check_text_depth

MAX_UPLOAD_BYTES = 64 * 1024
AWS_SUBJECT_TOKEN_TYPE = "urn:ietf:params:aws:token-type:aws4_request"  # noqa: S105 - a token type, not a token

ROLE_ARN = re.compile(r"^arn:aws(?:-[a-z]+)*:iam::(?P<account>\d{12}):role/[\w+=,.@/-]{1,512}$")
AWS_REGION = re.compile(r"^[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}$")
S3_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
GCS_BUCKET = re.compile(r"^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$")
AZURE_ACCOUNT_NAME = re.compile(r"^[a-z0-9]{3,24}$")
PREFIX = re.compile(r"^(?:[A-Za-z0-9!_.*'()-]+/)*$")
CONTROL_MESSAGE = "Remove the control characters (such as NUL, escape or a line break); they are never part of it."
CONNECTION_STRING_KEYS = {
    "DefaultEndpointsProtocol",
    "AccountName",
    "AccountKey",
    "SharedAccessSignature",
    "EndpointSuffix",
    "BlobEndpoint",
    "QueueEndpoint",
    "TableEndpoint",
    "FileEndpoint",
}


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


def role_arn(value: Any) -> str:
    value = text(value, max_length=2048)
    if not ROLE_ARN.match(value):
        raise ValueError("Enter an IAM role ARN such as arn:aws:iam::123456789012:role/SpaceportAccess.")
    return value


def aws_region(value: Any) -> str:
    value = text(value, max_length=32)
    if not AWS_REGION.match(value):
        raise ValueError("Enter an AWS region such as eu-central-1.")
    return value


def s3_bucket(value: Any) -> str:
    """S3 bucket naming rules, which IBM COS and most S3-compatible stores share."""
    value = text(value, max_length=63)
    if not S3_BUCKET.match(value) or ".." in value or ".-" in value or "-." in value:
        raise ValueError(
            "Bucket names have 3 to 63 characters: lowercase letters, digits, dots and hyphens, "
            "starting and ending with a letter or digit."
        )
    if _is_ip_address(value):
        raise ValueError("A bucket name must not look like an IP address.")
    if value.startswith(("xn--", "sthree-")) or value.endswith(("-s3alias", "--ol-s3")):
        raise ValueError("This bucket name uses a prefix or suffix that S3 reserves.")
    return value


def gcs_bucket(value: Any) -> str:
    value = text(value, max_length=222)
    if not GCS_BUCKET.match(value) or value.startswith("goog") or "google" in value:
        raise ValueError(
            "Bucket names have 3 to 63 characters (222 with dots): lowercase letters, digits, dashes, "
            "underscores and dots, starting and ending with a letter or digit, without 'goog'."
        )
    if any(len(part) > 63 for part in value.split(".")) or (len(value) > 63 and "." not in value):
        raise ValueError("Each dot-separated part of a bucket name has at most 63 characters.")
    return value


def _is_ip_address(value: str) -> bool:
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
    value = text(value, max_length=2048).rstrip("/")
    parts = urlsplit(value)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValueError("Enter a URL starting with https:// (or http://), such as https://s3.example.com.")
    if parts.username or parts.password:
        raise ValueError("Do not put credentials in the URL; use the key fields.")
    if parts.query or parts.fragment:
        raise ValueError("Enter the URL without a query string or fragment.")
    reachable(value)
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


def google_api_endpoint(value: Any) -> str:
    """Where Spaceport sends a Google token of its own: Google, or a host the operator listed."""
    if value in (None, ""):
        return ""
    value = url(value)
    if not is_google_host(urlsplit(value).hostname or ""):
        raise ValueError(
            "Spaceport sends its own Google credentials to this endpoint, so it must be Google's: a host under "
            "googleapis.com, such as https://storage-myendpoint.p.googleapis.com."
        )
    return value


def is_google_host(host: str) -> bool:
    """googleapis.com and its subdomains, or a host the operator allowed in SPACEPORT_GCP_EXTRA_TOKEN_HOSTS."""
    host = host.lower().rstrip(".")
    if host == "googleapis.com" or host.endswith(".googleapis.com"):
        return True
    return host in {extra.lower() for extra in settings.SPACEPORT_GCP_EXTRA_TOKEN_HOSTS}


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


def _allowed(value: Any, allowed: list[str], what: str, *, origin_only: bool) -> str:
    """One of the operator's URLs, compared after the same normalization the settings apply.

    The outbound address policy is applied first, so an inward address is refused with its reason
    even before the list is consulted.
    """
    value = text(value, max_length=2048).rstrip("/")
    candidate = url(value if "://" in value else f"https://{value}")
    parts = urlsplit(candidate)
    try:
        port = parts.port
    except ValueError:
        port = None
    origin = f"{parts.scheme}://{(parts.hostname or '').lower()}{f':{port}' if port else ''}"
    normalized = origin if origin_only else origin + parts.path
    if normalized not in allowed:
        raise ValueError(f"Choose one of the {what} this Spaceport allows: {', '.join(allowed)}.")
    return normalized


def ibm_iam_token_url(value: Any) -> str:
    """Only the operator's IBM Cloud IAM token URLs: the API key is sent there."""
    return _allowed(value, list(settings.SPACEPORT_IBM_IAM_TOKEN_URLS), "IAM token URLs", origin_only=False)


def ibm_iam_token_choices() -> tuple[tuple[str, str], ...]:
    return tuple((url, url) for url in settings.SPACEPORT_IBM_IAM_TOKEN_URLS)


AZURE_CLOUD_NAMES = {
    "https://login.microsoftonline.com": "Azure public cloud",
    "https://login.microsoftonline.us": "Azure US Government",
    "https://login.chinacloudapi.cn": "Azure China (21Vianet)",
}


def azure_authority_host(value: Any) -> str:
    """Only the operator's Entra ID authorities: the client secret or certificate assertion goes there."""
    return _allowed(value, list(settings.SPACEPORT_AZURE_AUTHORITY_HOSTS), "authority hosts", origin_only=True)


def azure_authority_choices() -> tuple[tuple[str, str], ...]:
    return tuple(
        (host, f"{AZURE_CLOUD_NAMES[host]} ({host})" if host in AZURE_CLOUD_NAMES else host)
        for host in settings.SPACEPORT_AZURE_AUTHORITY_HOSTS
    )


def azure_connection_string(value: Any) -> str:
    """Parse ``Key=Value;`` pairs and require an account, a credential and an endpoint."""
    value = secret_text(value)
    parts: dict[str, str] = {}
    for segment in filter(None, (s.strip() for s in value.split(";"))):
        key, sep, item = segment.partition("=")
        if not sep or not item:
            raise ValueError("A connection string is a list of Key=Value; pairs; one of them is incomplete.")
        if key not in CONNECTION_STRING_KEYS:
            raise ValueError(f"'{key}' is not a storage connection string key.")
        parts[key] = item
    missing = []
    if "BlobEndpoint" not in parts and "AccountName" not in parts:
        missing.append("AccountName")
    if "AccountKey" not in parts and "SharedAccessSignature" not in parts:
        missing.append("AccountKey (or SharedAccessSignature)")
    if "BlobEndpoint" not in parts and "DefaultEndpointsProtocol" not in parts:
        missing.append("DefaultEndpointsProtocol (or BlobEndpoint)")
    if missing:
        raise ValueError(f"The connection string is missing {', '.join(missing)}.")
    if "AccountName" in parts and not AZURE_ACCOUNT_NAME.match(parts["AccountName"]):
        raise ValueError("AccountName must be 3 to 24 lowercase letters and digits.")
    blob_endpoint = parts.get("BlobEndpoint") or (
        f"{parts['DefaultEndpointsProtocol']}://{parts['AccountName']}.blob."
        f"{parts.get('EndpointSuffix', 'core.windows.net')}"
    )
    if urlsplit(blob_endpoint).scheme not in ("https", "http") or not urlsplit(blob_endpoint).hostname:
        raise ValueError("BlobEndpoint must be an http(s) URL such as https://account.blob.core.windows.net.")
    try:
        reachable(blob_endpoint)
    except ValueError as exc:
        raise ValueError(f"BlobEndpoint: {exc}") from None
    return value


def _json_document(value: Any, label: str) -> dict[str, Any]:
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
    _printable_strings(value, label)
    return value


def _printable_strings(document: Any, label: str) -> None:
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


def service_account_key(value: Any) -> dict[str, Any]:
    document = _json_document(value, "service-account key")
    if document.get("type") != "service_account":
        raise ValueError('This is not a service-account key: its "type" must be "service_account".')
    email = document.get("client_email")
    if not isinstance(email, str) or "@" not in email:
        raise ValueError('The key has no valid "client_email".')
    key = document.get("private_key")
    if not isinstance(key, str) or not key.strip():
        raise ValueError('The key has no "private_key".')
    try:
        load_pem_private_key(key.encode(), password=None)
    except (ValueError, TypeError):
        raise ValueError('The key\'s "private_key" is not a readable PEM private key.') from None
    if not isinstance(document.get("private_key_id", ""), str):
        raise ValueError('"private_key_id" must be text.')
    return document


def external_account_config(value: Any) -> dict[str, Any]:
    document = _json_document(value, "credential configuration")
    if document.get("type") != "external_account":
        raise ValueError('This is not a workload identity federation file: "type" must be "external_account".')
    for key in ("audience", "subject_token_type", "token_url"):
        if not isinstance(document.get(key), str) or not document[key]:
            raise ValueError(f'The configuration has no "{key}".')
    try:
        url(document["token_url"])
    except ValueError:
        raise ValueError('"token_url" must be an https URL.') from None
    if document["subject_token_type"] == AWS_SUBJECT_TOKEN_TYPE:
        raise ValueError(
            "This file trades an AWS identity. Spaceport vouches with an OIDC token it signs for this connection: "
            "create the pool provider for Spaceport's issuer and its configuration, as the setup page shows."
        )
    source = document.get("credential_source")
    if not isinstance(source, dict) or not ({"file", "url", "environment_id", "executable"} & set(source)):
        raise ValueError('"credential_source" must say where the subject token comes from (file, url, ...).')
    if "private_key" in document or "client_secret" in document:
        raise ValueError("This file holds a secret; a workload identity federation file must not.")
    return document


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


def addressing_style(value: Any) -> str:
    value = (value or "path") if isinstance(value, str) else value
    if value not in ("path", "virtual"):
        raise ValueError("Choose path or virtual.")
    return str(value)


def access_key_id(value: Any) -> str:
    value = text(value, max_length=128)
    if not re.match(r"^[A-Za-z0-9+/=_-]{3,128}$", value):
        raise ValueError("An access key id has only letters, digits and + / = _ -.")
    return value
