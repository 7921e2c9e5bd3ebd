"""Where a space's objects live in its organization's storage, and how to sign a request there.

Only S3-protocol connections (AWS keys, S3-compatible static keys, IBM HMAC) can be proxied: the
gateway re-signs each request with the connection's own credentials using botocore's SigV4 signer.
The credentials come from the connection's client (:func:`connections.storage.client_for`), which
is per connection, so no two organizations ever share a signer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from botocore.auth import UNSIGNED_PAYLOAD, S3SigV4Auth
from botocore.awsrequest import AWSRequest

from connections.storage import Location, active_connection, client_for, location_for
from gateway.errors import S3Error
from portal.tenancy.models import Space

VENDING_API = "/api/v1/organizations/{org}/spaces/{space}/credentials/"


class _UnsignedPayloadAuth(S3SigV4Auth):
    """SigV4 with ``UNSIGNED-PAYLOAD``: the body streams through and the client's own signature
    over it has already been checked by the gateway."""

    def payload(self, request: Any) -> str:
        return UNSIGNED_PAYLOAD


@dataclass(frozen=True)
class Upstream:
    """One space's place in an S3 store: the endpoint, the bucket and prefix, and the signer."""

    endpoint: str
    region: str
    location: Location
    credentials: Any

    def url(self, key: str = "") -> str:
        path = quote(f"{self.location.bucket}/{self.location.key(key)}" if key else self.location.bucket, safe="/~")
        return f"{self.endpoint.rstrip('/')}/{path}"

    def signed_headers(self, method: str, url: str, headers: dict[str, str]) -> dict[str, str]:
        """``headers`` with the SigV4 headers that sign ``method url`` for this store."""
        request = AWSRequest(method=method, url=url, headers={**headers, "X-Amz-Content-SHA256": UNSIGNED_PAYLOAD})
        _UnsignedPayloadAuth(self.credentials.get_frozen_credentials(), "s3", self.region).add_auth(request)
        return dict(request.headers.items())

    @property
    def host(self) -> str:
        return urlsplit(self.endpoint).hostname or ""

    @property
    def port(self) -> int:
        parts = urlsplit(self.endpoint)
        return parts.port or (443 if parts.scheme == "https" else 80)


def upstream_for(space: Space) -> Upstream:
    """The upstream of ``space``, or :class:`S3Error` when its storage cannot be proxied."""
    organization = space.organization
    connection = active_connection(organization)
    if connection is None:
        raise S3Error("NoSuchBucket", "The space has no storage connected.", 404)
    client = client_for(connection)
    s3 = getattr(client, "s3", None)
    credentials = getattr(getattr(s3, "_request_signer", None), "_credentials", None)
    if s3 is None or credentials is None:
        raise S3Error(
            "NotImplemented",
            "This space's storage does not speak S3; ask for credentials at "
            + VENDING_API.format(org=organization.name, space=space.name),
        )
    return Upstream(
        endpoint=str(s3.meta.endpoint_url),
        region=str(s3.meta.region_name or "us-east-1"),
        location=location_for(connection, space.name),
        credentials=credentials,
    )
