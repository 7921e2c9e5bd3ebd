"""Every way a customer can connect storage: what each method needs, and what it risks.

One :class:`MethodSpec` per method drives input checking, the API's write-only secret fields,
the onboarding wizard's forms and its explanations, so the three never disagree.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import models

from connections import validators as check


class Provider(models.TextChoices):
    AWS = "aws", "Amazon S3"
    AZURE = "azure", "Azure Blob Storage"
    GCP = "gcp", "Google Cloud Storage"
    IBM = "ibm", "IBM Cloud Object Storage"
    S3COMPAT = "s3compat", "S3-compatible (VAST, MinIO, Ceph, ...)"


class Method(models.TextChoices):
    AZURE_CONNECTION_STRING = "azure_connection_string", "Connection string"
    AZURE_SERVICE_PRINCIPAL = "azure_service_principal", "Service principal"
    AWS_ACCESS_KEYS = "aws_access_keys", "Long-term access keys"
    AWS_WEB_IDENTITY = "aws_web_identity", "OIDC web identity"
    AWS_CROSS_ACCOUNT_ROLE = "aws_cross_account_role", "Cross-account role"
    GCP_SERVICE_ACCOUNT_KEY = "gcp_service_account_key", "Service-account key (JSON)"
    GCP_WORKLOAD_IDENTITY = "gcp_workload_identity", "Workload identity federation"
    GCP_DIRECT_IAM = "gcp_direct_iam", "Direct IAM binding"
    IBM_API_KEY = "ibm_api_key", "API key"
    IBM_HMAC = "ibm_hmac", "HMAC keys"
    S3_STATIC_KEYS = "s3_static_keys", "Static access keys"


@dataclass(frozen=True)
class FieldSpec:
    name: str
    label: str
    check: Callable[[Any], Any]
    help: str = ""
    secret: bool = False
    required: bool = True
    kind: str = "text"
    default: Any = None
    choices: tuple[tuple[str, str], ...] = ()
    # Decides where a stored secret is sent: changing it requires entering the secret again.
    destination: bool = False
    # Choices read when asked (an operator's allow-list in settings), instead of fixed ``choices``.
    choices_from: Callable[[], tuple[tuple[str, str], ...]] | None = None
    # What an empty stored value stands for, so a row saved before the field had choices binds the same.
    empty_means: str = ""

    def options(self) -> tuple[tuple[str, str], ...]:
        """The choices offered right now."""
        return self.choices_from() if self.choices_from is not None else self.choices

    def initial(self) -> Any:
        """The value used when the field is left empty; a choice field defaults to its first option."""
        if self.default is None and self.choices_from is not None:
            options = self.options()
            return options[0][0] if options else ""
        return self.default


@dataclass(frozen=True)
class MethodSpec:
    method: str
    provider: str
    summary: str
    risk: str
    fields: tuple[FieldSpec, ...]
    uses_external_id: bool = False
    # Acts with a token from Spaceport's issuer whose subject names this organization and connection.
    uses_spaceport_subject: bool = False
    recommended: bool = False
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return Method(self.method).label

    @property
    def needs_connection_id(self) -> bool:
        """The ExternalId and the issuer's subject are both built on the connection's own random id."""
        return self.uses_external_id or self.uses_spaceport_subject

    @property
    def config_fields(self) -> tuple[FieldSpec, ...]:
        return tuple(f for f in self.fields if not f.secret)

    @property
    def secret_fields(self) -> tuple[FieldSpec, ...]:
        return tuple(f for f in self.fields if f.secret)

    @property
    def destination_fields(self) -> tuple[FieldSpec, ...]:
        return tuple(f for f in self.fields if f.destination)


class ConnectionInputError(Exception):
    """Input that does not make a working connection, field by field."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = dict(errors)


def _optional(checker: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def run(value: Any) -> Any:
        return "" if value in (None, "") else checker(value)

    return run


BUCKET = FieldSpec("bucket", "Bucket", check.s3_bucket, "The bucket Spaceport keeps the organization's spaces in.")
PREFIX = FieldSpec(
    "prefix",
    "Path inside the bucket",
    check.prefix,
    "Optional. Spaces live under <path><space>/; leave empty to use the whole bucket.",
    required=False,
    default="",
)
REGION = FieldSpec("region", "Region", check.aws_region, "The bucket's region, such as eu-central-1.")
AWS_ENDPOINT = FieldSpec(
    "endpoint_url",
    "Endpoint URL",
    check.optional_url,
    "Optional: a VPC endpoint or another S3/STS endpoint. Leave empty for AWS itself.",
    required=False,
    default="",
    destination=True,
)
ROLE_ARN = FieldSpec("role_arn", "Role ARN", check.role_arn, "The ARN of the role you created for Spaceport.")
ACCESS_KEY_ID = FieldSpec("access_key_id", "Access key id", check.access_key_id)
SECRET_ACCESS_KEY = FieldSpec("secret_access_key", "Secret access key", check.secret_text, secret=True, kind="password")
GCS_BUCKET = FieldSpec("bucket", "Bucket", check.gcs_bucket, "The bucket Spaceport keeps the organization's spaces in.")
GCS_ENDPOINT = FieldSpec(
    "api_endpoint",
    "API endpoint",
    check.optional_url,
    "Optional: a Private Service Connect endpoint. Leave empty for Google Cloud itself.",
    required=False,
    default="",
    destination=True,
)
IBM_ENDPOINT = FieldSpec(
    "endpoint",
    "Endpoint",
    check.url,
    "Such as https://s3.eu-de.cloud-object-storage.appdomain.cloud",
    destination=True,
)
GCS_IDENTITY_ENDPOINT = FieldSpec(
    "api_endpoint",
    "API endpoint",
    check.google_api_endpoint,
    "Optional: a Private Service Connect endpoint under googleapis.com. Leave empty for Google Cloud itself.",
    required=False,
    default="",
)

SPECS: dict[str, MethodSpec] = {
    spec.method: spec
    for spec in (
        MethodSpec(
            Method.AZURE_CONNECTION_STRING,
            Provider.AZURE,
            "Paste the storage account's connection string.",
            "The connection string holds the account key: whoever has it can read, change and delete "
            "everything in the account, with no per-person audit. Keep it only here and rotate the "
            "account key if it ever leaks.",
            (
                FieldSpec(
                    "connection_string",
                    "Connection string",
                    check.azure_connection_string,
                    "Storage account > Security + networking > Access keys > Connection string.",
                    secret=True,
                    kind="password",
                ),
            ),
        ),
        MethodSpec(
            Method.AZURE_SERVICE_PRINCIPAL,
            Provider.AZURE,
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
                    _optional(check.secret_text),
                    "The secret's value, or upload a certificate instead.",
                    secret=True,
                    required=False,
                    kind="password",
                ),
                FieldSpec(
                    "certificate",
                    "Client certificate (PEM)",
                    _optional(check.pem_certificate_with_key),
                    "A PEM file with the certificate and its private key, instead of a secret.",
                    secret=True,
                    required=False,
                    kind="file",
                ),
                FieldSpec(
                    "authority_host",
                    "Authority host",
                    check.azure_authority_host,
                    "The Entra ID cloud that signs in the service principal: the public cloud unless your "
                    "tenant is in a national cloud. Only the hosts the operator allows are offered.",
                    required=False,
                    kind="choice",
                    destination=True,
                    choices_from=check.azure_authority_choices,
                    empty_means="https://login.microsoftonline.com",
                ),
            ),
            recommended=True,
        ),
        MethodSpec(
            Method.AWS_ACCESS_KEYS,
            Provider.AWS,
            "Create an IAM user with access to the bucket and enter its access key.",
            "Long-term keys never expire on their own: anyone who obtains them has the user's access "
            "until you delete the key. Prefer a cross-account role; if you use keys, scope the user's "
            "policy to this bucket and rotate the key regularly.",
            (ACCESS_KEY_ID, SECRET_ACCESS_KEY, BUCKET, REGION, PREFIX, AWS_ENDPOINT),
        ),
        MethodSpec(
            Method.AWS_WEB_IDENTITY,
            Provider.AWS,
            "Add Spaceport as an OIDC provider in IAM and create a role that trusts this connection's subject.",
            "No long-lived secret exists at all: Spaceport presents a short-lived token it signs for this "
            "connection alone and receives temporary credentials. The trust policy shown here admits only this "
            "connection's subject, so no other Spaceport customer can use your role.",
            (ROLE_ARN, BUCKET, REGION, PREFIX, AWS_ENDPOINT),
            uses_spaceport_subject=True,
        ),
        MethodSpec(
            Method.AWS_CROSS_ACCOUNT_ROLE,
            Provider.AWS,
            "Create a role that trusts Spaceport's AWS account on the condition of the ExternalId shown here.",
            "The standard for SaaS access: no secret leaves your account, access is revocable at any time, and "
            "the ExternalId condition stops anyone else from tricking Spaceport into using your role "
            "(the confused deputy).",
            (ROLE_ARN, BUCKET, REGION, PREFIX, AWS_ENDPOINT),
            uses_external_id=True,
            recommended=True,
        ),
        MethodSpec(
            Method.GCP_SERVICE_ACCOUNT_KEY,
            Provider.GCP,
            "Create a service account with Storage Object Admin on the bucket, create a JSON key and upload it.",
            "A key file is a long-lived secret: whoever holds it acts as the service account until you delete "
            "the key. Many organizations forbid key creation; prefer workload identity federation.",
            (
                FieldSpec(
                    "key_json",
                    "Service-account key file",
                    check.service_account_key,
                    "The JSON file downloaded from IAM & Admin > Service Accounts > Keys.",
                    secret=True,
                    kind="file",
                ),
                GCS_BUCKET,
                PREFIX,
                GCS_ENDPOINT,
            ),
        ),
        MethodSpec(
            Method.GCP_WORKLOAD_IDENTITY,
            Provider.GCP,
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
                    check.external_account_config,
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
            Method.GCP_DIRECT_IAM,
            Provider.GCP,
            "Grant your organization's Spaceport service account Storage Object Admin on your bucket.",
            "Simplest when both sides run on Google Cloud: nothing to exchange, and you revoke access by "
            "removing the binding. Spaceport acts for your organization only through a service account of its "
            "own, which no other customer's connections use; the grant is only on your bucket.",
            (GCS_BUCKET, PREFIX, GCS_IDENTITY_ENDPOINT),
        ),
        MethodSpec(
            Method.IBM_API_KEY,
            Provider.IBM,
            "Create a service ID with Writer access to the bucket and an API key for it.",
            "Spaceport trades the API key for short-lived IAM tokens. The key itself is long-lived: delete it in "
            "IBM Cloud to revoke access.",
            (
                IBM_ENDPOINT,
                BUCKET,
                PREFIX,
                FieldSpec("api_key", "API key", check.secret_text, secret=True, kind="password"),
                FieldSpec(
                    "service_instance_id",
                    "Service instance id",
                    _optional(check.text),
                    "Optional: the COS instance's CRN, needed for listing buckets.",
                    required=False,
                    default="",
                ),
                FieldSpec(
                    "iam_url",
                    "IAM token URL",
                    check.ibm_iam_token_url,
                    "Where the API key is exchanged for tokens. Only the URLs the operator allows are offered.",
                    required=False,
                    kind="choice",
                    destination=True,
                    choices_from=check.ibm_iam_token_choices,
                ),
            ),
        ),
        MethodSpec(
            Method.IBM_HMAC,
            Provider.IBM,
            "Create service credentials with HMAC enabled and enter the access key pair.",
            "HMAC keys are long-lived and work with any S3 tool; scope the service credential to Writer on this "
            "bucket and rotate it regularly.",
            (
                IBM_ENDPOINT,
                BUCKET,
                PREFIX,
                ACCESS_KEY_ID,
                SECRET_ACCESS_KEY,
            ),
        ),
        MethodSpec(
            Method.S3_STATIC_KEYS,
            Provider.S3COMPAT,
            "Create an S3 user for Spaceport on your store (VAST, MinIO, Ceph, ...) with access to the bucket.",
            "Static keys are long-lived; give the user an identity policy limited to this bucket and rotate "
            "the key regularly. Turn off TLS verification only for a store inside your own network.",
            (
                FieldSpec("endpoint", "Endpoint", check.url, "Such as https://s3.vast.example.com", destination=True),
                BUCKET,
                PREFIX,
                ACCESS_KEY_ID,
                SECRET_ACCESS_KEY,
                FieldSpec(
                    "addressing_style",
                    "Addressing style",
                    check.addressing_style,
                    "Path style (endpoint/bucket/key) works with almost every store.",
                    required=False,
                    default="path",
                    kind="choice",
                    choices=(("path", "Path style"), ("virtual", "Virtual-hosted style")),
                ),
                FieldSpec(
                    "verify_tls",
                    "Verify TLS certificates",
                    check.boolean,
                    required=False,
                    default=True,
                    kind="bool",
                ),
                FieldSpec(
                    "region",
                    "Region",
                    check.text,
                    "Most stores accept any value; us-east-1 is the usual default.",
                    required=False,
                    default="us-east-1",
                ),
            ),
        ),
    )
}


def spec_for(method: str) -> MethodSpec:
    try:
        return SPECS[method]
    except KeyError:
        raise ConnectionInputError({"method": f"Choose one of: {', '.join(SPECS)}."}) from None


def methods_of(provider: str) -> list[MethodSpec]:
    return [spec for spec in SPECS.values() if spec.provider == provider]


def clean_input(
    method: str,
    values: Mapping[str, Any],
    *,
    existing_secret: Mapping[str, Any] | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Check every field of ``method`` and split the result into (config, secret).

    Secret fields left empty keep their stored value, so editing a connection never requires
    typing its secret again. Unknown fields are refused, so a typo is not silently dropped.
    """
    spec = spec_for(method)
    errors: dict[str, str] = {}
    known = {f.name for f in spec.fields}
    for name in values:
        if name not in known:
            errors[name] = f"{spec.label} takes no field '{name}'."
    config: dict[str, Any] = {}
    secret: dict[str, Any] = dict(existing_secret or {})
    for item in spec.fields:
        raw = values.get(item.name)
        if raw in (None, ""):
            if item.secret and item.name in secret:
                continue
            if item.required:
                errors[item.name] = "This field is required."
                continue
            if not item.secret:
                default = item.initial()
                config[item.name] = default if default is not None else ""
            continue
        try:
            cleaned = item.check(raw)
        except ValueError as exc:
            errors[item.name] = str(exc)
            continue
        (secret if item.secret else config)[item.name] = cleaned
    if method == Method.AZURE_SERVICE_PRINCIPAL and not (secret.get("client_secret") or secret.get("certificate")):
        errors.setdefault("client_secret", "Enter the client secret or upload a certificate.")
    if errors:
        raise ConnectionInputError(errors)
    if method == Method.GCP_SERVICE_ACCOUNT_KEY:
        config["client_email"] = secret["key_json"]["client_email"]
        config["project_id"] = secret["key_json"].get("project_id", "")
    return config, secret
