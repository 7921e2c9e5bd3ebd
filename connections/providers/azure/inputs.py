"""Azure Blob Storage: checks for what a customer enters, with messages that say how to fix it."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings

from connections.inputs import allowed_choice, reachable, secret_text

AZURE_ACCOUNT_NAME = re.compile(r"^[a-z0-9]{3,24}$")
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


AZURE_CLOUD_NAMES = {
    "https://login.microsoftonline.com": "Azure public cloud",
    "https://login.microsoftonline.us": "Azure US Government",
    "https://login.chinacloudapi.cn": "Azure China (21Vianet)",
}


def azure_authority_host(value: Any, *, vetted: bool = True) -> str:
    """Only the operator's Entra ID authorities: the client secret or certificate assertion goes there."""
    allowed = list(settings.SPACEPORT_AZURE_AUTHORITY_HOSTS)
    return allowed_choice(value, allowed, "authority hosts", origin_only=True, vetted=vetted)


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
