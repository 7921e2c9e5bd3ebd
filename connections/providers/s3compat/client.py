"""S3-compatible stores (VAST, MinIO, Ceph, ...): one static key pair at the customer's endpoint."""

from __future__ import annotations

from typing import TYPE_CHECKING, Self

from connections.providers.s3.client import S3Client
from connections.providers.s3.session import fixed_keys, s3_config, static_key_s3

if TYPE_CHECKING:
    from connections.models import CloudConnection


class StaticKeyClient(S3Client):
    """Signs every request with the stored key pair; there is nothing to sign in to or refresh."""

    @classmethod
    def with_keys(
        cls,
        connection: CloudConnection,
        *,
        region: str,
        identity: str,
        addressing_style: str = "path",
        verify: bool = True,
    ) -> Self:
        """A client at the connection's endpoint signing with its key pair, direct copies included."""
        config = connection.config
        access_key_id = config["access_key_id"]
        secret_access_key = (connection.secret or {}).get("secret_access_key", "")
        s3 = static_key_s3(
            endpoint_url=config["endpoint"],
            region=region,
            access_key_id=access_key_id,
            secret_access_key=secret_access_key,
            config=s3_config(addressing_style=addressing_style, only_required_checksums=True),
            verify=verify,
        )
        return cls(
            connection,
            s3,
            endpoint=config["endpoint"],
            identity=identity,
            credentials=fixed_keys(access_key_id, secret_access_key),
            verify=verify,
        )

    def authenticate(self) -> str:
        return f"Signing requests with {self.identity} at {self.endpoint}."


def build_client(connection: CloudConnection) -> StaticKeyClient:
    config = connection.config
    return StaticKeyClient.with_keys(
        connection,
        region=config.get("region") or "us-east-1",
        identity=f"access key {config['access_key_id']}",
        addressing_style=config.get("addressing_style") or "path",
        verify=bool(config.get("verify_tls", True)),
    )
