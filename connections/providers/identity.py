"""Spaceport's own identity token, for the clouds that trust Spaceport's identity provider.

AWS web identity and Google workload identity federation both trade a token that proves
Spaceport is Spaceport. It comes from Spaceport's configuration only (a projected token file,
or a client-credentials grant at Spaceport's identity provider), never from a customer's
input, so no customer can make Spaceport read a file or call a URL of their choosing.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import requests
from django.conf import settings

from connections.providers.base import StorageError

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
        "An administrator must set SPACEPORT_WEB_IDENTITY_TOKEN_FILE or SPACEPORT_WEB_IDENTITY_TOKEN_URL; "
        "until then, use a cross-account role.",
    )
