"""Downscoped Google access tokens for one space: a Credential Access Boundary on the connection's identity.

Google's Security Token Service trades the connection's own token for one that carries a
boundary: only the connection's bucket, only objects under the space's prefix (and listing
with that prefix), and only the permissions of the role that matches the access level. The
token cannot be given its own lifetime; it lives as long as the source token it was cut from.
"""

from __future__ import annotations

import shlex
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from django.conf import settings
from google.auth import downscoped
from google.auth.transport.requests import Request
from google.oauth2 import sts

from connections.providers.base import Location, StorageError
from connections.providers.gcp.client import GcsClient
from connections.providers.vending import Access, Credential, NotVendable, Scope, space_prefix

# Whether credentials carry the person's identity, and so are cached per person (see issuing).
PER_USER = False

if TYPE_CHECKING:
    from google.auth.credentials import Credentials

    from connections.models import CloudConnection
    from connections.providers.descriptor import ClientSource

KIND = "gcp_downscoped_token"

# How the card names each part of the credential's secret.
SECRET_LABELS = {
    "access_token": "Access token",
}
# How the card names each ready-to-run snippet.
SNIPPET_LABELS = {
    "env": "Environment",
    "gcloud": "gcloud",
    "curl": "Objects with curl",
}
STORAGE_API = "https://storage.googleapis.com"
# Google access tokens live an hour; used only if neither STS nor the source says when this one ends.
TOKEN_HOUR = timedelta(hours=1)

ROLES: dict[str, list[str]] = {
    Access.READ: ["roles/storage.objectViewer"],
    Access.WRITE: ["roles/storage.objectViewer", "roles/storage.objectCreator"],
    Access.DELETE: ["roles/storage.objectAdmin"],
}
CEL_ESCAPES = {"\\": "\\\\", "'": "\\'"}


def cel_string(text: str) -> str:
    """``text`` as the inside of a single-quoted CEL string literal, so a quote in a name cannot end it."""
    return "".join(CEL_ESCAPES.get(c, c if ord(c) >= 32 else f"\\x{ord(c):02x}") for c in text)


def boundary_rules(location: Location, access: str) -> list[dict[str, Any]]:
    """The Credential Access Boundary's rules, in the form Google's STS receives them.

    Listing a bucket names the bucket, not an object, so it passes only through the list prefix
    attribute; every other operation must name an object under the space's prefix.
    """
    bucket, prefix = cel_string(location.bucket), cel_string(space_prefix(location))
    objects = f"resource.name.startsWith('projects/_/buckets/{bucket}/objects/{prefix}')"
    listing = f"api.getAttribute('storage.googleapis.com/objectListPrefix', '').startsWith('{prefix}')"
    return [
        {
            "availableResource": f"//storage.googleapis.com/projects/_/buckets/{location.bucket}",
            "availablePermissions": [f"inRole:{role}" for role in ROLES[Access(access)]],
            "availabilityCondition": {"expression": f"{objects} || {listing}"},
        }
    ]


def access_boundary(location: Location, access: str) -> downscoped.CredentialAccessBoundary:
    rules = [
        downscoped.AccessBoundaryRule(
            available_resource=rule["availableResource"],
            available_permissions=rule["availablePermissions"],
            availability_condition=downscoped.AvailabilityCondition(rule["availabilityCondition"]["expression"]),
        )
        for rule in boundary_rules(location, access)
    ]
    return downscoped.CredentialAccessBoundary(rules=rules)


class DownscopedToken(downscoped.Credentials):
    """google-auth's downscoped credentials, exchanged at the configured STS endpoint instead of Google's own."""

    def __init__(self, source: Credentials, boundary: downscoped.CredentialAccessBoundary, token_url: str) -> None:
        super().__init__(source, boundary)
        self._sts_client = sts.Client(token_url)


class DownscopeVendor:
    """Tokens carry no identity of the person (Google logs the connection's principal), so they are shared."""

    per_user = PER_USER

    def __init__(self, connection: CloudConnection, client: GcsClient) -> None:
        self.connection = connection
        self.client = client

    def vend(self, scope: Scope) -> Credential:
        token = DownscopedToken(
            self.client.credentials,
            access_boundary(scope.location, scope.access),
            settings.SPACEPORT_GCP_STS_ENDPOINT,
        )
        issued_at = datetime.now(UTC)
        try:
            token.refresh(Request())
        except Exception as exc:
            error = self.client.explain(exc)
            raise NotVendable("connection", f"{error.message} {error.hint}".strip(), error.code) from None
        expiry = token.expiry.replace(tzinfo=UTC) if token.expiry else issued_at + TOKEN_HOUR
        location = {
            "bucket": scope.location.bucket,
            "prefix": scope.location.prefix,
            "api_endpoint": str(self.connection.config.get("api_endpoint") or ""),
        }
        return Credential(
            provider=self.connection.provider,
            kind=KIND,
            access=scope.access,
            expires_at=expiry,
            location=location,
            secret={"access_token": str(token.token)},
            snippets=snippets(location, str(token.token)),
        )


def snippets(location: dict[str, str], token: str) -> dict[str, str]:
    q = shlex.quote
    bucket, prefix = location["bucket"], location["prefix"]
    api = (location["api_endpoint"] or STORAGE_API).rstrip("/")
    listing = f"{api}/storage/v1/b/{quote(bucket, safe='')}/o?prefix={quote(prefix, safe='')}"
    return {
        "env": f"export CLOUDSDK_AUTH_ACCESS_TOKEN={q(token)}",
        "gcloud": f"gcloud storage ls --recursive {q(f'gs://{bucket}/{prefix}')}",
        "curl": f"curl -fsS -H {q(f'Authorization: Bearer {token}')} {q(listing)}",
    }


def build_vendor(connection: CloudConnection, client_for: ClientSource) -> DownscopeVendor:
    try:
        client = client_for(connection)
    except StorageError as exc:
        raise NotVendable("connection", f"{exc.message} {exc.hint}".strip(), exc.code) from None
    if not isinstance(client, GcsClient):
        raise NotVendable("connection", "This connection is not a Google Cloud Storage connection.", "wrong_provider")
    return DownscopeVendor(connection, client)
