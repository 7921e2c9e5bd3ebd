"""Presigned URLs for S3-compatible stores and IBM COS, which have no STS to vend scoped keys.

A presigned URL is the only way to hand out less than the connection's own keys there: each URL
does one operation on one object and expires. So reading, writing and deleting need the objects
named up front; only listing the space is possible without names, through one presigned
ListObjectsV2 URL whose prefix is part of the signature.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from botocore.config import Config
from botocore.exceptions import BotoCoreError

from connections.providers.base import StorageError, refuse_unbound
from connections.providers.s3.session import s3_config, static_key_s3
from connections.providers.vending import Access, Credential, NotVendable, Scope
from portal.core.cache import ProcessMemory
from portal.core.errors import DomainError
from portal.core.printable import has_control_characters

# Whether credentials carry the person's identity, and so are cached per person (see issuing).
PER_USER = False

if TYPE_CHECKING:
    from connections.models import CloudConnection

KIND = "s3_presigned_urls"

# How the card names each part of the credential's secret.
SECRET_LABELS = {
    "method": "HTTP method",
    "list_url": "Listing URL",
    "urls": "URL",
}
# How the card names each ready-to-run snippet.
SNIPPET_LABELS = {
    "curl": "Objects with curl",
    "list": "List with curl",
}
# SigV4 presigned URLs are valid for at most seven days.
MAX_SECONDS = 7 * 24 * 3600
MAX_KEYS = 100
MAX_KEY_BYTES = 1024

# By connection: the modification time it was built at, and the signing client.
_presigners: ProcessMemory[int, tuple[str, Any]] = ProcessMemory(
    "presigning clients",
    entries=256,
    secrets="a presigning client holds the connection's HMAC keys; building one per vend costs more "
    "than the signing itself, and a changed connection builds a new one",
)

OPERATIONS: dict[str, tuple[str, str]] = {
    Access.READ: ("get_object", "GET"),
    Access.WRITE: ("put_object", "PUT"),
    Access.DELETE: ("delete_object", "DELETE"),
}


def checked_keys(keys: tuple[str, ...], prefix: str) -> list[str]:
    """The object keys, relative to the space, once each is sure to stay inside it."""
    if len(keys) > MAX_KEYS:
        raise DomainError("object_keys", f"Name at most {MAX_KEYS} objects per credential.", "too_many_keys")
    unique: list[str] = []
    for key in keys:
        if not isinstance(key, str) or not key or key.startswith("/"):
            raise DomainError(
                "object_keys",
                "Object keys are paths inside the space and cannot be empty or start with '/'.",
                "bad_key",
            )
        if any(part in (".", "..") for part in key.split("/")):
            raise DomainError("object_keys", "Object keys cannot contain '.' or '..' path segments.", "bad_key")
        if has_control_characters(key):
            raise DomainError("object_keys", "Object keys cannot contain control characters.", "bad_key")
        if len((prefix + key).encode()) > MAX_KEY_BYTES:
            raise DomainError(
                "object_keys", f"Object keys, with the space's prefix, are at most {MAX_KEY_BYTES} bytes.", "bad_key"
            )
        if key not in unique:
            unique.append(key)
    return unique


class PresignVendor:
    """Signs URLs with the connection's own keys; nothing is asked of the store, so nothing is shared per person."""

    per_user = PER_USER

    def __init__(self, connection: CloudConnection, s3: Any) -> None:
        self.connection = connection
        self.s3 = s3

    def vend(self, scope: Scope) -> Credential:
        prefix = scope.location.prefix
        keys = checked_keys(scope.object_keys, prefix)
        if scope.access != Access.READ and not keys:
            # The error is filed under object_keys, so the field name is not repeated in the words:
            # on the space page it sits under the field labelled "Object keys".
            raise DomainError(
                "object_keys",
                f"S3-compatible stores without STS cannot scope a key to a prefix; name the objects to {scope.access}.",
                "object_keys_required",
            )
        seconds = max(1, min(MAX_SECONDS, int(scope.lifetime.total_seconds())))
        signed_at = datetime.now(UTC)
        operation, method = OPERATIONS[Access(scope.access)]
        bucket = scope.location.bucket
        try:
            urls = {key: self._sign(operation, {"Bucket": bucket, "Key": prefix + key}, seconds) for key in keys}
            list_url = self._sign("list_objects_v2", {"Bucket": bucket, "Prefix": prefix}, seconds)
        except BotoCoreError as exc:
            raise NotVendable(
                "connection", f"The URLs could not be signed ({type(exc).__name__}).", "presign_failed"
            ) from None
        return Credential(
            provider=self.connection.provider,
            kind=KIND,
            access=scope.access,
            expires_at=signed_at + timedelta(seconds=seconds),
            location={"bucket": bucket, "prefix": prefix, "endpoint_url": self.s3.meta.endpoint_url},
            secret={"method": method, "urls": urls, "list_url": list_url},
            snippets=snippets(method, urls, list_url),
        )

    def _sign(self, operation: str, params: dict[str, Any], seconds: int) -> str:
        return str(self.s3.generate_presigned_url(operation, Params=params, ExpiresIn=seconds))


def snippets(method: str, urls: dict[str, str], list_url: str) -> dict[str, str]:
    q = shlex.quote
    curl = {
        "GET": lambda key, url: f"curl -fsS -o {q(key.rsplit('/', 1)[-1])} {q(url)}",
        "PUT": lambda key, url: f"curl -fsS -X PUT --upload-file {q(key.rsplit('/', 1)[-1])} {q(url)}",
        "DELETE": lambda key, url: f"curl -fsS -X DELETE {q(url)}",
    }[method]
    result = {"list": f"curl -fsS {q(list_url)}"}
    if urls:
        result["curl"] = "\n".join(curl(key, url) for key, url in urls.items())
    return result


@dataclass(frozen=True)
class Signing:
    """How a store expects URLs signed: its region, addressing style, and whether TLS is verified."""

    region: str
    addressing_style: str = "path"
    verify: bool = True


def presigner(connection: CloudConnection, signing: Signing) -> Any:
    """An S3 client that signs with SigV4, reused until the connection changes.

    The provider's own client would presign with botocore's default, which for us-east-1 is
    the old SigV2 query form that many stores (rclone, recent MinIO, VAST) refuse.
    """
    version = connection.modified.isoformat() if connection.modified else ""
    cached = _presigners.get(connection.pk or 0)
    if cached is not None and cached[0] == version:
        return cached[1]
    config = connection.config
    secret = connection.secret or {}
    s3 = static_key_s3(
        endpoint_url=config["endpoint"],
        region=signing.region,
        access_key_id=config["access_key_id"],
        secret_access_key=secret.get("secret_access_key", ""),
        config=s3_config(addressing_style=signing.addressing_style).merge(Config(signature_version="s3v4")),
        verify=signing.verify,
    )
    if connection.pk:
        _presigners.put(connection.pk, (version, s3))
    return s3


def presign_vendor(connection: CloudConnection, signing: Signing) -> PresignVendor:
    """A vendor signing with the connection's own key pair, once the pair is sure to belong here."""
    try:
        refuse_unbound(connection)
    except StorageError as exc:
        raise NotVendable("connection", f"{exc.message} {exc.hint}".strip(), exc.code) from None
    return PresignVendor(connection, presigner(connection, signing))
