"""Azure Blob Storage as Spaceport sees it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from connections.providers.azure import instructions, revocation
from connections.providers.azure.client import build_client
from connections.providers.azure.methods import METHODS, PROVIDER
from connections.providers.azure.territory import STORAGE_ACCOUNT
from connections.providers.azure.vendor import KIND, PER_USER, SECRET_LABELS, SNIPPET_LABELS, build_vendor
from connections.providers.base import Location
from connections.providers.descriptor import ProviderDescriptor, Tile

if TYPE_CHECKING:
    from connections.models import CloudConnection


def container_per_space(connection: CloudConnection, space_name: str) -> Location:
    """One container per space, named like the space."""
    return Location(bucket=space_name)


AZURE = ProviderDescriptor(
    key=PROVIDER,
    label="Azure Blob Storage",
    tile=Tile(
        "Azure Blob Storage",
        "Az",
        "A storage account, reached through an Entra ID service principal or a connection string.",
    ),
    methods=METHODS,
    build_client=build_client,
    build_vendor=build_vendor,
    territory=STORAGE_ACCOUNT,
    draft_name="azure-blob",
    per_user=PER_USER,
    sas_tokens=True,
    kind_labels={KIND: "Azure SAS token"},
    secret_labels=SECRET_LABELS,
    snippet_labels=SNIPPET_LABELS,
    location=container_per_space,
    instructions=instructions.steps,
    revocability=revocation.revocability,
)
