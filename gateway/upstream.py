"""Where a space's objects live in its organization's storage, and how to sign a request there.

Only connections whose store speaks S3 can be proxied (AWS keys, assumed roles and web identity,
S3-compatible keys, IBM COS with HMAC keys or an API key). Their provider supplies the signer
through :func:`connections.storage.request_signer_for`: one per connection, refreshing its own
temporary credentials, so no two organizations ever share one.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote

from connections.storage import (
    Location,
    NotSignable,
    RequestSigner,
    StorageError,
    active_connection,
    location_for,
    request_signer_for,
)
from gateway.errors import S3Error
from portal.core import snapshots
from portal.core.cache import ProcessMemory
from portal.tenancy.models import Space

log = logging.getLogger("spaceport.gateway")

VENDING_API = "/api/v1/organizations/{org}/spaces/{space}/credentials/"


def _unavailable(error: StorageError) -> S3Error:
    log.warning("the space's storage cannot be signed for: %s %s", error.code, error.message)
    return S3Error("ServiceUnavailable", "The gateway has no usable credentials for the space's storage.", 503)


@dataclass(frozen=True)
class Upstream:
    """One space's place in an S3 store: the bucket and prefix, and the signer for its endpoint."""

    location: Location
    signer: RequestSigner

    @property
    def endpoint(self) -> str:
        return self.signer.endpoint

    @property
    def region(self) -> str:
        return self.signer.region

    @property
    def host(self) -> str:
        return self.signer.host

    @property
    def port(self) -> int:
        return self.signer.port

    @property
    def verify_tls(self) -> bool:
        return self.signer.verify_tls

    def url(self, key: str = "") -> str:
        path = quote(f"{self.location.bucket}/{self.location.key(key)}" if key else self.location.bucket, safe="/~")
        return f"{self.endpoint}/{path}"

    def signed_headers(self, method: str, url: str, headers: Mapping[str, str]) -> dict[str, str]:
        """``headers`` with what authorizes ``method url`` at the store (may refresh credentials)."""
        try:
            return self.signer.signed_headers(method, url, headers)
        except StorageError as error:
            raise _unavailable(error) from error


def upstream_for(space: Space) -> Upstream:
    """The upstream of ``space``, or :class:`S3Error` when its storage cannot be proxied."""
    organization = space.organization
    connection = active_connection(organization)
    if connection is None:
        raise S3Error("NoSuchBucket", "The space has no storage connected.", 404)
    try:
        signer = request_signer_for(connection)
    except NotSignable:
        raise S3Error(
            "NotImplemented",
            "This space's storage does not speak S3; ask for credentials at "
            + VENDING_API.format(org=organization.name, space=space.name),
        ) from None
    except StorageError as error:
        raise _unavailable(error) from error
    return Upstream(location=location_for(connection, space.name), signer=signer)


# By (access snapshot version, space id): one space's upstream, with its connection's credentials.
_upstreams: ProcessMemory[tuple[str, int], Upstream] = ProcessMemory(
    "gateway upstreams",
    entries=1024,
    secrets="an upstream holds the signer of its space's connection, with its credentials, which re-signs "
    "every request the gateway forwards; finding them anew would cost queries per request. The entry is keyed "
    "by the access snapshot version, which starts anew whenever a connection, a space or an organization "
    "changes, and by the space, so it serves only that space's organization's active connection",
)


def upstream_of(space: Space) -> Upstream:
    """:func:`upstream_for`, kept per access snapshot version; a refusal is worked out anew each time."""
    at = (snapshots.version(), space.pk)
    found = _upstreams.get(at)
    if found is None:
        found = upstream_for(space)
        _upstreams.put(at, found)
    return found
