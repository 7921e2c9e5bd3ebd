"""The example cloud as Spaceport sees it: the one object a provider package exports."""

from __future__ import annotations

from connections.providers.descriptor import ProviderDescriptor, Tile
from connections.providers.territories import s3_store
from tests.example_provider.client import build_client
from tests.example_provider.methods import METHODS, PROVIDER
from tests.example_provider.vendor import KIND, build_vendor

EXAMPLE = ProviderDescriptor(
    key=PROVIDER,
    label="Example Cloud",
    tile=Tile("Example Cloud", "Ex", "A made-up cloud that keeps its objects in memory."),
    methods=METHODS,
    build_client=build_client,
    build_vendor=build_vendor,
    territory=s3_store("example.test", ""),
    draft_name="example",
    kind_labels={KIND: "Example token"},
)
