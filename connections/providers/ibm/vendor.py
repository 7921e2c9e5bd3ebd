"""IBM COS hands out access as presigned URLs, which only its HMAC keys can sign."""

from __future__ import annotations

from typing import TYPE_CHECKING

from connections.providers.ibm.client import SIGNING_REGION
from connections.providers.ibm.methods import HMAC
from connections.providers.s3.presigned import PresignVendor, Signing, presign_vendor
from connections.providers.vending import NotVendable

if TYPE_CHECKING:
    from connections.models import CloudConnection
    from connections.providers.descriptor import ClientSource


def build_vendor(connection: CloudConnection, client_for: ClientSource) -> PresignVendor:
    if connection.method != HMAC:
        raise NotVendable(
            "connection",
            "This IBM Cloud Object Storage connection uses an API key, which cannot sign URLs. "
            "Connect the bucket with HMAC keys (service credentials with HMAC enabled) to hand out access.",
            "presign_needs_hmac",
        )
    return presign_vendor(connection, Signing(region=SIGNING_REGION))
