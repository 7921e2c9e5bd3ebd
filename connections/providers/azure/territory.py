"""An Azure connection's territory is its storage account: each space is a container in it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from connections.providers.azure.methods import CONNECTION_STRING
from connections.providers.territories import Territory, TerritoryRule, host_of


def account_of(url: str) -> str:
    """A blob endpoint as host and path: Azurite and private endpoints put the account in the path."""
    return f"{host_of(url)}{urlsplit(url or '').path.rstrip('/').lower()}"


def connection_string_account(connection_string: str) -> str:
    parts = dict(
        segment.split("=", 1) for segment in connection_string.split(";") if "=" in segment and segment.strip()
    )
    parts = {key.strip(): value.strip() for key, value in parts.items()}
    if parts.get("BlobEndpoint"):
        return account_of(parts["BlobEndpoint"])
    suffix = parts.get("EndpointSuffix") or "core.windows.net"
    return f"{parts.get('AccountName', '').lower()}.blob.{suffix.lower()}"


def storage_account(method: str, config: Mapping[str, Any], secret: Mapping[str, Any]) -> Territory | None:
    if method == CONNECTION_STRING:
        account = connection_string_account(str(secret.get("connection_string") or ""))
    else:
        account = account_of(str(config.get("account_url") or ""))
    return Territory(f"azure:{account}", "") if account else None


def account_field(method: str, mine: Territory, theirs: Territory) -> str:
    return "connection_string" if method == CONNECTION_STRING else "account_url"


STORAGE_ACCOUNT = TerritoryRule(
    storage_account,
    account_field,
    "This storage account is already connected to another organization in Spaceport, and a storage "
    "location belongs to one organization only. Choose another storage account.",
)
