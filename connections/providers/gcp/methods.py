"""Google Cloud Storage's connection methods and what each asks for."""

from __future__ import annotations

from typing import Any

from connections import inputs as check
from connections.providers.gcp.inputs import (
    external_account_config,
    gcs_bucket,
    google_api_endpoint,
    service_account_key,
)
from connections.providers.spec import PREFIX, FieldSpec, MethodSpec

PROVIDER = "gcp"
SERVICE_ACCOUNT_KEY = "gcp_service_account_key"
WORKLOAD_IDENTITY = "gcp_workload_identity"
DIRECT_IAM = "gcp_direct_iam"

GCS_BUCKET = FieldSpec("bucket", "Bucket", gcs_bucket, "The bucket Spaceport keeps the organization's spaces in.")
GCS_ENDPOINT = FieldSpec(
    "api_endpoint",
    "API endpoint",
    check.optional_url,
    "Optional: a Private Service Connect endpoint. Leave empty for Google Cloud itself.",
    required=False,
    default="",
    destination=True,
)
GCS_IDENTITY_ENDPOINT = FieldSpec(
    "api_endpoint",
    "API endpoint",
    google_api_endpoint,
    "Optional: a Private Service Connect endpoint under googleapis.com. Leave empty for Google Cloud itself.",
    required=False,
    default="",
)


def key_identity(config: dict[str, Any], secret: dict[str, Any]) -> dict[str, str]:
    """The key file names the service account and project; shown without opening the secret."""
    key = secret.get("key_json")
    if isinstance(key, dict):
        config["client_email"] = key["client_email"]
        config["project_id"] = key.get("project_id", "")
    return {}


METHODS = (
    MethodSpec(
        SERVICE_ACCOUNT_KEY,
        PROVIDER,
        "Service-account key (JSON)",
        "Create a service account with Storage Object Admin on the bucket, create a JSON key and upload it.",
        "A key file is a long-lived secret: whoever holds it acts as the service account until you delete "
        "the key. Many organizations forbid key creation; prefer workload identity federation.",
        (
            FieldSpec(
                "key_json",
                "Service-account key file",
                service_account_key,
                "The JSON file downloaded from IAM & Admin > Service Accounts > Keys.",
                secret=True,
                kind="file",
            ),
            GCS_BUCKET,
            PREFIX,
            GCS_ENDPOINT,
        ),
        settle=key_identity,
    ),
    MethodSpec(
        WORKLOAD_IDENTITY,
        PROVIDER,
        "Workload identity federation",
        "Create a workload identity pool and provider that trust Spaceport as an OIDC issuer, let this "
        "connection's subject impersonate a service account with access to the bucket, and upload the "
        "credential configuration file.",
        "No secret is exchanged: the configuration file only says how to trade a token Spaceport signs for "
        "this connection for short-lived Google credentials. The provider's attribute condition shown here "
        "admits only this connection's subject, so no other Spaceport customer can use your pool.",
        (
            FieldSpec(
                "credential_config",
                "Credential configuration file",
                external_account_config,
                "The JSON file from gcloud iam workload-identity-pools create-cred-config.",
                kind="file",
            ),
            GCS_BUCKET,
            PREFIX,
            GCS_IDENTITY_ENDPOINT,
        ),
        uses_spaceport_subject=True,
        recommended=True,
    ),
    MethodSpec(
        DIRECT_IAM,
        PROVIDER,
        "Direct IAM binding",
        "Grant your organization's Spaceport service account Storage Object Admin on your bucket.",
        "Simplest when both sides run on Google Cloud: nothing to exchange, and you revoke access by "
        "removing the binding. Spaceport acts for your organization only through a service account of its "
        "own, which no other customer's connections use; the grant is only on your bucket.",
        (GCS_BUCKET, PREFIX, GCS_IDENTITY_ENDPOINT),
    ),
)
