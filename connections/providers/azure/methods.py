"""Azure Blob Storage's connection methods and what each asks for."""

from __future__ import annotations

from typing import Any

from connections import inputs as check
from connections.providers.azure.inputs import azure_authority_choices, azure_authority_host, azure_connection_string
from connections.providers.spec import FieldSpec, MethodSpec, optional

PROVIDER = "azure"
CONNECTION_STRING = "azure_connection_string"
SERVICE_PRINCIPAL = "azure_service_principal"


def secret_or_certificate(config: dict[str, Any], secret: dict[str, Any]) -> dict[str, str]:
    """A service principal signs in with a secret or a certificate; either one will do."""
    if secret.get("client_secret") or secret.get("certificate"):
        return {}
    return {"client_secret": "Enter the client secret or upload a certificate."}


METHODS = (
    MethodSpec(
        CONNECTION_STRING,
        PROVIDER,
        "Connection string",
        "Paste the storage account's connection string.",
        "The connection string holds the account key: whoever has it can read, change and delete "
        "everything in the account, with no per-person audit. Keep it only here and rotate the "
        "account key if it ever leaks.",
        (
            FieldSpec(
                "connection_string",
                "Connection string",
                azure_connection_string,
                "Storage account > Security + networking > Access keys > Connection string.",
                secret=True,
                kind="password",
            ),
        ),
    ),
    MethodSpec(
        SERVICE_PRINCIPAL,
        PROVIDER,
        "Service principal",
        "Register an Entra ID application, give it a Storage Blob Data role on the account, and "
        "enter its tenant, client id and secret (or certificate).",
        "Scoped to one identity that your IT can revoke without touching the account keys, and every "
        "access shows up in your audit logs. The client secret expires; renew it here in time.",
        (
            FieldSpec("tenant_id", "Tenant id", check.guid, "Entra ID > Overview > Tenant ID."),
            FieldSpec("client_id", "Client id", check.guid, "The application (client) ID."),
            FieldSpec(
                "account_url",
                "Storage account URL",
                check.url,
                "Such as https://<account>.blob.core.windows.net",
                destination=True,
            ),
            FieldSpec(
                "client_secret",
                "Client secret",
                optional(check.secret_text),
                "The secret's value, or upload a certificate instead.",
                secret=True,
                required=False,
                kind="password",
            ),
            FieldSpec(
                "certificate",
                "Client certificate (PEM)",
                optional(check.pem_certificate_with_key),
                "A PEM file with the certificate and its private key, instead of a secret.",
                secret=True,
                required=False,
                kind="file",
            ),
            FieldSpec(
                "authority_host",
                "Authority host",
                azure_authority_host,
                "The Entra ID cloud that signs in the service principal: the public cloud unless your "
                "tenant is in a national cloud. Only the hosts the operator allows are offered.",
                required=False,
                kind="choice",
                destination=True,
                choices_from=azure_authority_choices,
                empty_means="https://login.microsoftonline.com",
            ),
        ),
        recommended=True,
        settle=secret_or_certificate,
    ),
)
