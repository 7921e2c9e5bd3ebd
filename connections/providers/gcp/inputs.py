"""Google Cloud: checks for what a customer enters, with messages that say how to fix it."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.serialization import load_pem_private_key
from django.conf import settings

from connections.inputs import json_document, text, url

AWS_SUBJECT_TOKEN_TYPE = "urn:ietf:params:aws:token-type:aws4_request"  # noqa: S105 - a token type, not a token

GCS_BUCKET = re.compile(r"^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$")


def gcs_bucket(value: Any) -> str:
    value = text(value, max_length=222)
    if not GCS_BUCKET.match(value) or value.startswith("goog") or "google" in value:
        raise ValueError(
            "Bucket names have 3 to 63 characters (222 with dots): lowercase letters, digits, dashes, "
            "underscores and dots, starting and ending with a letter or digit, without 'goog'."
        )
    if any(len(part) > 63 for part in value.split(".")) or (len(value) > 63 and "." not in value):
        raise ValueError("Each dot-separated part of a bucket name has at most 63 characters.")
    return value


def google_api_endpoint(value: Any) -> str:
    """Where Spaceport sends a Google token of its own: Google, or a host the operator listed."""
    if value in (None, ""):
        return ""
    value = url(value)
    if not is_google_host(urlsplit(value).hostname or ""):
        raise ValueError(
            "Spaceport sends its own Google credentials to this endpoint, so it must be Google's: a host under "
            "googleapis.com, such as https://storage-myendpoint.p.googleapis.com."
        )
    return value


def is_google_host(host: str) -> bool:
    """googleapis.com and its subdomains, or a host the operator allowed in SPACEPORT_GCP_EXTRA_TOKEN_HOSTS."""
    host = host.lower().rstrip(".")
    if host == "googleapis.com" or host.endswith(".googleapis.com"):
        return True
    return host in {extra.lower() for extra in settings.SPACEPORT_GCP_EXTRA_TOKEN_HOSTS}


def service_account_key(value: Any) -> dict[str, Any]:
    document = json_document(value, "service-account key")
    if document.get("type") != "service_account":
        raise ValueError('This is not a service-account key: its "type" must be "service_account".')
    email = document.get("client_email")
    if not isinstance(email, str) or "@" not in email:
        raise ValueError('The key has no valid "client_email".')
    key = document.get("private_key")
    if not isinstance(key, str) or not key.strip():
        raise ValueError('The key has no "private_key".')
    try:
        load_pem_private_key(key.encode(), password=None)
    except (ValueError, TypeError):
        raise ValueError('The key\'s "private_key" is not a readable PEM private key.') from None
    if not isinstance(document.get("private_key_id", ""), str):
        raise ValueError('"private_key_id" must be text.')
    return document


def external_account_config(value: Any) -> dict[str, Any]:
    document = json_document(value, "credential configuration")
    if document.get("type") != "external_account":
        raise ValueError('This is not a workload identity federation file: "type" must be "external_account".')
    for key in ("audience", "subject_token_type", "token_url"):
        if not isinstance(document.get(key), str) or not document[key]:
            raise ValueError(f'The configuration has no "{key}".')
    try:
        url(document["token_url"])
    except ValueError:
        raise ValueError('"token_url" must be an https URL.') from None
    if document["subject_token_type"] == AWS_SUBJECT_TOKEN_TYPE:
        raise ValueError(
            "This file trades an AWS identity. Spaceport vouches with an OIDC token it signs for this connection: "
            "create the pool provider for Spaceport's issuer and its configuration, as the setup page shows."
        )
    source = document.get("credential_source")
    if not isinstance(source, dict) or not ({"file", "url", "environment_id", "executable"} & set(source)):
        raise ValueError('"credential_source" must say where the subject token comes from (file, url, ...).')
    if "private_key" in document or "client_secret" in document:
        raise ValueError("This file holds a secret; a workload identity federation file must not.")
    return document
