"""S3-compatible stores (VAST, MinIO, Ceph, ...): one static key pair at the customer's endpoint."""

from __future__ import annotations

from typing import TYPE_CHECKING

from connections.providers.s3common import S3Client, fixed_keys, s3_config, static_key_s3

if TYPE_CHECKING:
    from connections.models import CloudConnection


class StaticKeyClient(S3Client):
    """Signs every request with the stored key pair; there is nothing to sign in to or refresh."""

    def authenticate(self) -> str:
        return f"Signing requests with {self.identity} at {self.endpoint}."


def build_client(connection: CloudConnection) -> StaticKeyClient:
    config = connection.config
    secret = connection.secret or {}
    verify = bool(config.get("verify_tls", True))
    s3 = static_key_s3(
        endpoint_url=config["endpoint"],
        region=config.get("region") or "us-east-1",
        access_key_id=config["access_key_id"],
        secret_access_key=secret.get("secret_access_key", ""),
        config=s3_config(addressing_style=config.get("addressing_style") or "path", only_required_checksums=True),
        verify=verify,
    )
    return StaticKeyClient(
        connection,
        s3,
        endpoint=config["endpoint"],
        identity=f"access key {config['access_key_id']}",
        credentials=fixed_keys(config["access_key_id"], secret.get("secret_access_key", "")),
        verify=verify,
    )
