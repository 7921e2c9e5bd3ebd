"""Google Cloud Storage as Spaceport sees it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connections.providers.descriptor import ProviderDescriptor, Tile
from connections.providers.gcp import instructions, revocation
from connections.providers.gcp.client import build_client
from connections.providers.gcp.methods import METHODS, PROVIDER
from connections.providers.gcp.vendor import KIND, PER_USER, SECRET_LABELS, SNIPPET_LABELS, build_vendor
from connections.providers.territories import Territory, TerritoryRule


def bucket(method: str, config: Mapping[str, Any], secret: Mapping[str, Any]) -> Territory | None:
    """Bucket names are global on Google Cloud, so the bucket and path say it all."""
    name = str(config.get("bucket") or "")
    return Territory("gcs", name, str(config.get("prefix") or "")) if name else None


GCP = ProviderDescriptor(
    key=PROVIDER,
    label="Google Cloud Storage",
    tile=Tile(
        "Google Cloud Storage",
        "GC",
        "A bucket, reached through workload identity federation, a direct IAM binding or a service-account key.",
    ),
    methods=METHODS,
    build_client=build_client,
    build_vendor=build_vendor,
    territory=TerritoryRule(bucket),
    draft_name="gcs",
    per_user=PER_USER,
    kind_labels={KIND: "Downscoped Google access token"},
    secret_labels=SECRET_LABELS,
    snippet_labels=SNIPPET_LABELS,
    instructions=instructions.steps,
    identity=instructions.identity,
    revocability=revocation.revocability,
)
