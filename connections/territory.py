"""One storage location belongs to at most one organization.

Defence in depth behind per-organization identities: even if two organizations could both reach a
bucket, Spaceport will not let both use it, so one organization's spaces can never be another's.
A territory is where a connection's spaces live: the storage account for Azure (each space is a
container in it), the endpoint's store and the bucket with the connection's path for S3-like
stores, the bucket with its path for GCS. Two territories overlap when they are in the same
bucket and one path is a prefix of the other (equal included).

Connections in use hold their territory; drafts do not until they are submitted, and disabled
connections release it. Connections of the same organization may share a territory: they are the
same data owner, for instance while moving from one method to another.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from django.db import connection as database

from connections.methods import ConnectionInputError, Method, Provider

if TYPE_CHECKING:
    from connections.models import CloudConnection

# Serializes claims: checking and saving happen under one transaction-scoped advisory lock.
CLAIM_LOCK = 0x5350_7465_7272  # "SPterr"
AWS_SUFFIX = ".amazonaws.com"
IBM_SUFFIX = ".cloud-object-storage.appdomain.cloud"


@dataclass(frozen=True)
class Territory:
    store: str
    bucket: str
    prefix: str = ""

    def overlaps(self, other: Territory) -> bool:
        return (
            self.store == other.store
            and self.bucket == other.bucket
            and (self.prefix.startswith(other.prefix) or other.prefix.startswith(self.prefix))
        )


def _host(url: str) -> str:
    parts = urlsplit(url or "")
    host = (parts.hostname or "").lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    return f"{host}:{port}" if port else host


def _account(url: str) -> str:
    """An Azure blob endpoint as host and path: Azurite and private endpoints put the account in the path."""
    return f"{_host(url)}{urlsplit(url or '').path.rstrip('/').lower()}"


def _connection_string_account(connection_string: str) -> str:
    parts = dict(
        segment.split("=", 1) for segment in connection_string.split(";") if "=" in segment and segment.strip()
    )
    parts = {key.strip(): value.strip() for key, value in parts.items()}
    if parts.get("BlobEndpoint"):
        return _account(parts["BlobEndpoint"])
    suffix = parts.get("EndpointSuffix") or "core.windows.net"
    return f"{parts.get('AccountName', '').lower()}.blob.{suffix.lower()}"


def _azure(method: str, config: Mapping[str, Any], secret: Mapping[str, Any]) -> Territory | None:
    if method == Method.AZURE_CONNECTION_STRING:
        account = _connection_string_account(str(secret.get("connection_string") or ""))
    else:
        account = _account(str(config.get("account_url") or ""))
    return Territory(f"azure:{account}", "") if account else None


TerritoryOf = Callable[[str, Mapping[str, Any], Mapping[str, Any]], "Territory | None"]


def _s3(default_host: str, shared_suffix: str) -> TerritoryOf:
    """S3-like stores: bucket names are unique per store; AWS and IBM COS share one namespace worldwide."""

    def territory(method: str, config: Mapping[str, Any], secret: Mapping[str, Any]) -> Territory | None:
        host = _host(str(config.get("endpoint_url") or config.get("endpoint") or "")) or default_host
        if shared_suffix and host.split(":")[0].endswith(shared_suffix):
            host = shared_suffix.lstrip(".")
        bucket = str(config.get("bucket") or "")
        return Territory(f"s3:{host}", bucket, str(config.get("prefix") or "")) if bucket else None

    return territory


def _gcs(method: str, config: Mapping[str, Any], secret: Mapping[str, Any]) -> Territory | None:
    bucket = str(config.get("bucket") or "")
    return Territory("gcs", bucket, str(config.get("prefix") or "")) if bucket else None


TERRITORIES: dict[str, TerritoryOf] = {
    Provider.AZURE: _azure,
    Provider.AWS: _s3("s3.amazonaws.com", AWS_SUFFIX),
    Provider.IBM: _s3("", IBM_SUFFIX),
    Provider.S3COMPAT: _s3("", ""),
    Provider.GCP: _gcs,
}


def territory_of(connection: CloudConnection) -> Territory | None:
    return TERRITORIES[connection.provider](connection.method, connection.config or {}, connection.secret or {})


def _field_for(connection: CloudConnection, mine: Territory, theirs: Territory) -> str:
    if connection.provider == Provider.AZURE:
        return "connection_string" if connection.method == Method.AZURE_CONNECTION_STRING else "account_url"
    return "bucket" if mine.prefix == theirs.prefix else "prefix"


def claim(connection: CloudConnection) -> None:
    """Refuse ``connection`` if another organization's connection in use holds an overlapping territory.

    Call inside the transaction that saves the connection: on PostgreSQL a transaction-scoped
    advisory lock makes two organizations claiming the same bucket at once take turns. The refusal
    names the field and never the other organization.
    """
    from connections.models import CloudConnection, Status

    mine = territory_of(connection)
    if mine is None:
        return
    if database.vendor == "postgresql":
        with database.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CLAIM_LOCK])
    others = (
        CloudConnection.objects.filter(provider=connection.provider)
        .exclude(organization_id=connection.organization_id)
        .exclude(status__in=[Status.DRAFT, Status.DISABLED])
    )
    for other in others.iterator():
        theirs = territory_of(other)
        if theirs is not None and mine.overlaps(theirs):
            field = _field_for(connection, mine, theirs)
            raise ConnectionInputError({field: _refusal(connection.provider)})


def _refusal(provider: str) -> str:
    if provider == Provider.AZURE:
        return (
            "This storage account is already connected to another organization in Spaceport, and a storage "
            "location belongs to one organization only. Choose another storage account."
        )
    return (
        "This bucket is already connected to another organization in Spaceport at this path or one that "
        "contains or lies inside it, and a storage location belongs to one organization only. Choose another "
        "bucket or a path apart from theirs."
    )
