"""Where a connection's spaces live, so one storage location serves one organization only.

A territory is the store and bucket (with the connection's path) its spaces are kept in. Each
provider says how to read one from a connection's settings; :mod:`connections.territory` compares
them across organizations.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from connections.egress import port_of


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


TerritoryOf = Callable[[str, Mapping[str, Any], Mapping[str, Any]], "Territory | None"]
# Which input field a refusal names, given the method and the two overlapping territories.
RefusedField = Callable[[str, Territory, Territory], str]

BUCKET_REFUSAL = (
    "This bucket is already connected to another organization in Spaceport at this path or one that "
    "contains or lies inside it, and a storage location belongs to one organization only. Choose another "
    "bucket or a path apart from theirs."
)


def bucket_or_prefix(method: str, mine: Territory, theirs: Territory) -> str:
    return "bucket" if mine.prefix == theirs.prefix else "prefix"


@dataclass(frozen=True)
class TerritoryRule:
    """How a provider's connections claim storage: reading the territory, and refusing an overlap."""

    of: TerritoryOf
    field: RefusedField = bucket_or_prefix
    refusal: str = BUCKET_REFUSAL


def host_of(url: str) -> str:
    parts = urlsplit(url or "")
    host = (parts.hostname or "").lower()
    port = port_of(parts)
    return f"{host}:{port}" if port else host


def s3_store(default_host: str, shared_suffix: str) -> TerritoryRule:
    """S3-like stores: bucket names are unique per store; AWS and IBM COS share one namespace worldwide."""

    def territory(method: str, config: Mapping[str, Any], secret: Mapping[str, Any]) -> Territory | None:
        host = host_of(str(config.get("endpoint_url") or config.get("endpoint") or "")) or default_host
        if shared_suffix and host.split(":")[0].endswith(shared_suffix):
            host = shared_suffix.lstrip(".")
        bucket = str(config.get("bucket") or "")
        return Territory(f"s3:{host}", bucket, str(config.get("prefix") or "")) if bucket else None

    return TerritoryRule(territory)
