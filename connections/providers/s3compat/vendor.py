"""S3-compatible stores have no STS: access is handed out as presigned URLs signed with the store's keys."""

from __future__ import annotations

from typing import TYPE_CHECKING

from connections.providers.s3.presigned import PresignVendor, Signing, presign_vendor

if TYPE_CHECKING:
    from connections.models import CloudConnection
    from connections.providers.descriptor import ClientSource


def build_vendor(connection: CloudConnection, client_for: ClientSource) -> PresignVendor:
    """Signed as the store expects: its own region, addressing style and TLS setting."""
    config = connection.config
    signing = Signing(
        region=config.get("region") or "us-east-1",
        addressing_style=config.get("addressing_style") or "path",
        verify=bool(config.get("verify_tls", True)),
    )
    return presign_vendor(connection, signing)
