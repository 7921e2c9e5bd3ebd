"""Spaceport's own Google identity, and the service accounts it acts as through it.

Spaceport's own credentials (a configured file, else Application Default Credentials) never touch
a customer's bucket: they only create and impersonate the per-organization service accounts
(``gcp_accounts``), whose short-lived tokens do. Every Google token leaves for Google's hosts only.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import google.auth
from django.conf import settings
from google.auth import exceptions as auth_errors
from google.auth import impersonated_credentials
from google.auth.credentials import Credentials
from google.oauth2 import service_account

from connections.providers.base import StorageError
from connections.providers.gcp.inputs import is_google_host

AWS_SUBJECT_TOKEN_TYPE = "urn:ietf:params:aws:token-type:aws4_request"  # noqa: S105 - a token type, not a token
CLOUD_PLATFORM = ["https://www.googleapis.com/auth/cloud-platform"]
IMPERSONATION_SECONDS = 3600


def own_credentials(scopes: list[str]) -> Credentials:
    """Spaceport's ambient identity: the configured file, else Application Default Credentials."""
    path = settings.SPACEPORT_GCP_CREDENTIALS_FILE
    if not path:
        try:
            credentials, _ = google.auth.default(scopes=scopes)
        except auth_errors.DefaultCredentialsError as exc:
            raise StorageError(
                "invalid_credentials",
                "Spaceport has no Google identity of its own to act with.",
                "Set SPACEPORT_GCP_CREDENTIALS_FILE, or run Spaceport on Google Cloud with a service account.",
            ) from exc
        return credentials
    document = json.loads(Path(path).read_text(encoding="utf-8"))
    if document.get("type") == "service_account":
        return service_account.Credentials.from_service_account_info(document, scopes=scopes)
    if document.get("type") == "external_account":
        return operator_pool(document, scopes)
    credentials, _ = google.auth.load_credentials_from_file(path, scopes=scopes)
    return credentials


def operator_pool(document: dict[str, Any], scopes: list[str]) -> Credentials:
    """Spaceport's own credential configuration, from the operator: its source is trusted, programs are not."""
    if "executable" in (document.get("credential_source") or {}):
        raise StorageError(
            "invalid_config",
            "Spaceport does not run programs named in a credential configuration.",
            "Create the configuration with a file, URL or AWS credential source.",
        )
    if document.get("subject_token_type") == AWS_SUBJECT_TOKEN_TYPE:
        from google.auth import aws

        return aws.Credentials.from_info(document, scopes=scopes)
    from google.auth import identity_pool

    return identity_pool.Credentials.from_info(document, scopes=scopes)


def impersonated(email: str, scopes: list[str]) -> Credentials:
    """Short-lived tokens of ``email``, issued by the IAM Credentials API to Spaceport's own identity."""
    endpoint = f"{settings.SPACEPORT_GCP_IAM_CREDENTIALS_URL}/v1/projects/-/serviceAccounts/{email}:generateAccessToken"
    check_google_host(endpoint, "SPACEPORT_GCP_IAM_CREDENTIALS_URL")
    return impersonated_credentials.Credentials(
        source_credentials=own_credentials(CLOUD_PLATFORM),
        target_principal=email,
        target_scopes=scopes,
        lifetime=IMPERSONATION_SECONDS,
        iam_endpoint_override=endpoint,
    )


def check_google_host(url: str, field: str) -> None:
    """Refuse to send a signed assertion or a token from Spaceport's identity anywhere but Google."""
    if not url:
        return
    host = (urlsplit(url).hostname or "").lower()
    if is_google_host(host):
        return
    if field == "api_endpoint":
        raise StorageError(
            "invalid_config",
            f"The API endpoint points at {host or 'no host'}, which is not Google's.",
            "Spaceport sends its own Google credentials there: use an endpoint under googleapis.com, or leave it "
            "empty.",
        )
    raise StorageError(
        "invalid_config",
        f"The {field} points at {host or 'no host'}, which is not a Google token endpoint.",
        "Use the file Google Cloud generated, unchanged (its endpoints are on googleapis.com).",
    )
