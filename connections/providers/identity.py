"""Spaceport's identity token, for the clouds that trust Spaceport as an OIDC issuer.

AWS web identity and Google workload identity federation both trade a token that proves who
Spaceport acts for. By default Spaceport's own issuer mints it for one connection, with a
subject naming the organization and the connection, so a customer's trust policy admits that
connection only. An operator whose customers already trust another identity provider may use
its token instead (``SPACEPORT_WEB_IDENTITY_SOURCE=external``), which every organization then
shares. Either way the token comes from Spaceport's configuration, never from a customer's
input, so no customer can make Spaceport read a file or call a URL of their choosing.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import requests
from django.conf import settings

from connections.providers.base import StorageError
from portal.auth import issuer

if TYPE_CHECKING:
    from connections.models import CloudConnection

TokenSource = Callable[[], str]


def token_file(path: str) -> TokenSource:
    """Read on every use: the kubelet rotates projected service-account tokens in place."""

    def read() -> str:
        try:
            return Path(path).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise StorageError(
                "web_identity_token",
                f"Spaceport cannot read its identity token file {path} ({exc.strerror}).",
                "An administrator must check SPACEPORT_WEB_IDENTITY_TOKEN_FILE and the token volume.",
                transient=True,
            ) from None

    return read


def client_credentials_token(url: str, client_id: str, client_secret: str, audience: str) -> TokenSource:
    """An OAuth client-credentials grant at Spaceport's identity provider; a fresh token per refresh."""

    def fetch() -> str:
        form = {"grant_type": "client_credentials"}
        if audience:
            form["audience"] = audience
        try:
            response = requests.post(
                url,
                data=form,
                auth=(client_id, client_secret),
                headers={"Accept": "application/json"},
                timeout=(settings.SPACEPORT_S3_CONNECT_TIMEOUT, 30),
            )
        except requests.RequestException:
            raise StorageError(
                "unreachable", f"Cannot reach Spaceport's identity provider at {url}.", "", transient=True
            ) from None
        if response.status_code != 200:
            raise StorageError(
                "web_identity_token",
                f"Spaceport's identity provider refused to issue a token (HTTP {response.status_code}).",
                "An administrator must check SPACEPORT_WEB_IDENTITY_CLIENT_ID and _CLIENT_SECRET.",
                transient=response.status_code >= 500,
            )
        body = response.json()
        token = body.get("id_token") or body.get("access_token")
        if not token:
            raise StorageError("web_identity_token", "Spaceport's identity provider answered without a token.", "")
        return str(token)

    return fetch


def configured_token_source() -> TokenSource:
    if settings.SPACEPORT_WEB_IDENTITY_TOKEN_FILE:
        return token_file(settings.SPACEPORT_WEB_IDENTITY_TOKEN_FILE)
    if settings.SPACEPORT_WEB_IDENTITY_TOKEN_URL:
        return client_credentials_token(
            settings.SPACEPORT_WEB_IDENTITY_TOKEN_URL,
            settings.SPACEPORT_WEB_IDENTITY_CLIENT_ID,
            settings.SPACEPORT_WEB_IDENTITY_CLIENT_SECRET,
            settings.SPACEPORT_WEB_IDENTITY_AUDIENCE,
        )
    raise StorageError(
        "not_configured",
        "This Spaceport has no identity provider for OIDC web identity.",
        "An administrator must set SPACEPORT_WEB_IDENTITY_TOKEN_FILE or SPACEPORT_WEB_IDENTITY_TOKEN_URL, "
        "or use Spaceport's own issuer (SPACEPORT_WEB_IDENTITY_SOURCE=issuer).",
    )


def uses_shared_identity() -> bool:
    """Whether the operator chose an external token source, which every organization shares."""
    return bool(settings.SPACEPORT_WEB_IDENTITY_SOURCE == "external")


def workload_subject(connection: CloudConnection) -> str:
    """The ``sub`` Spaceport asserts for this connection: its organization and its own random id.

    The id is fixed when the connection is created, so renaming the connection keeps the
    customer's trust policy working; organization names never change.
    """
    if not connection.external_id:
        raise StorageError(
            "not_configured",
            "This connection has no identity subject, so Spaceport cannot vouch for it.",
            "Create the connection again with the wizard, which issues one.",
        )
    return f"organization/{connection.organization.name}/connection/{connection.external_id}"


def connection_token_source(connection: CloudConnection, audience: str) -> TokenSource:
    """A fresh token for ``audience`` on every use: minted for this connection, or the external one."""
    if uses_shared_identity():
        return configured_token_source()
    subject = workload_subject(connection)
    _check_issuer()

    def mint() -> str:
        try:
            return issuer.mint(subject, audience)
        except issuer.IssuerNotConfiguredError as exc:
            raise _not_configured(exc) from None

    return mint


def _check_issuer() -> None:
    """Refuse at once, rather than at the first refresh, when the issuer cannot sign."""
    try:
        issuer.issuer_url()
        issuer.signing_keys()
    except issuer.IssuerNotConfiguredError as exc:
        raise _not_configured(exc) from None


def _not_configured(exc: issuer.IssuerNotConfiguredError) -> StorageError:
    return StorageError("not_configured", "Spaceport's OIDC issuer is not set up on this server.", str(exc))
