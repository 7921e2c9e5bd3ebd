"""Finding the vendor for a connection's provider."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from accessgrants.vending.base import Vendor
from connections.methods import Provider

if TYPE_CHECKING:
    from connections.models import CloudConnection

MODULES = {
    Provider.AWS: "accessgrants.vending.aws",
    Provider.AZURE: "accessgrants.vending.azure",
    Provider.GCP: "accessgrants.vending.gcp",
    Provider.IBM: "accessgrants.vending.presigned",
    Provider.S3COMPAT: "accessgrants.vending.presigned",
}


def per_user(connection: CloudConnection) -> bool:
    """Whether the provider's credentials carry the person's identity; known without building a vendor,
    so a cached credential is found without touching the connection's secret."""
    return bool(importlib.import_module(MODULES[Provider(connection.provider)]).PER_USER)


def vendor_for(connection: CloudConnection) -> Vendor:
    """The vendor for ``connection``; each module builds it from the connection's (cached) client."""
    module = importlib.import_module(MODULES[Provider(connection.provider)])
    vendor: Vendor = module.build_vendor(connection)
    return vendor
