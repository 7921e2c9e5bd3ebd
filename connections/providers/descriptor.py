"""Everything the rest of Spaceport asks about a cloud, in one typed record per provider.

Each provider package (``connections/providers/<cloud>/``) exports one :class:`ProviderDescriptor`;
:mod:`connections.providers.registry` lists them. Code that needs "some provider" asks the
descriptor and never compares provider names, so adding a cloud is adding a package.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from connections.providers.base import Location, StorageClient
from connections.providers.revoking import Revocation, nothing_issued
from connections.providers.rotating import KeyRotation
from connections.providers.spec import MethodSpec
from connections.providers.territories import TerritoryRule
from connections.providers.vending import Vendor
from connections.providers.wizard import Identity, Steps, no_identity, no_steps

if TYPE_CHECKING:
    from connections.models import CloudConnection

ClientSource = Callable[["CloudConnection"], StorageClient]


@dataclass(frozen=True)
class Tile:
    """The wizard's card for a cloud: the words and mark that let IT recognise theirs."""

    name: str
    mark: str
    description: str


def prefix_per_space(connection: CloudConnection, space_name: str) -> Location:
    """Buckets: one prefix per space under the connection's path."""
    config = connection.config
    return Location(bucket=config["bucket"], prefix=f"{config.get('prefix', '')}{space_name}/")


@dataclass(frozen=True)
class ProviderDescriptor:
    """One cloud as Spaceport sees it.

    ``key`` is the value stored in ``CloudConnection.provider`` and sent over the API; it never
    changes once connections use it. ``build_vendor`` receives the shared client source, so a
    vendor reuses the client (and its temporary credentials) that validation and commits use.
    """

    key: str
    label: str
    tile: Tile
    methods: tuple[MethodSpec, ...]
    build_client: Callable[[CloudConnection], StorageClient]
    build_vendor: Callable[[CloudConnection, ClientSource], Vendor]
    territory: TerritoryRule
    # The stem of a new draft's name, such as "aws-s3" (then "aws-s3-2", ...).
    draft_name: str
    # The credential carries the person's identity, so it is cached per person.
    per_user: bool = False
    # Access is handed out as presigned URLs rather than keys or tokens.
    presigned: bool = False
    # AccessManager's SAS endpoints answer for this storage.
    sas_tokens: bool = False
    # How each credential kind this provider vends is named to people.
    kind_labels: Mapping[str, str] = field(default_factory=dict)
    # How each part of a vended credential's secret, and each ready-to-run snippet, is named to people.
    secret_labels: Mapping[str, str] = field(default_factory=dict)
    snippet_labels: Mapping[str, str] = field(default_factory=dict)
    location: Callable[[CloudConnection, str], Location] = prefix_per_space
    # The wizard's steps on the customer's side, filled in for one connection.
    instructions: Steps = no_steps
    # Whom the customer's cloud trusts for a connection, where a method trusts Spaceport itself.
    identity: Identity = no_identity
    # Placeholders in the steps that only the operator can fill, with the setting that does.
    operator_settings: Mapping[str, str] = field(default_factory=dict)
    # What disabling a connection withdraws at once, and how long the rest stays valid.
    revocability: Revocation = nothing_issued
    # How the workers replace a long-term key the customer opted in to rotating; None where no method can.
    key_rotation: KeyRotation | None = None
    # The settings of an AWS profile whose ``credential_process`` fetches this store's credentials
    # (region, endpoint), for providers whose credentials are AWS keys with an expiry; None elsewhere.
    aws_profile: Callable[[CloudConnection], Mapping[str, str]] | None = None
