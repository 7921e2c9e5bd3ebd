"""What the customer does on their side, filled in for this connection: policies to paste, commands to run.

The wizard shows these with copy buttons, and the API serves them, so IT never has to
assemble a trust policy by hand (the usual place for the ExternalId condition to go missing).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings

from connections.methods import Method
from connections.models import CloudConnection
from connections.providers.base import StorageError
from connections.providers.gcp.accounts import organization_service_account
from connections.providers.identity import uses_shared_identity, workload_subject
from portal.auth import issuer

PLACEHOLDER_BUCKET = "<your-bucket>"
PLACEHOLDER_ISSUER = "https://<spaceport-issuer-host>"
PLACEHOLDER_ACCOUNT = "<your-organization's-spaceport-service-account>"
PLACEHOLDER_AWS_ACCOUNT = "<spaceport-account-id>"


@dataclass(frozen=True)
class Instruction:
    title: str
    body: str
    language: str = "json"


def _json(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2)


def spaceport_aws_principal() -> str:
    """The AWS principal customers trust: the configured ARN, or the account root."""
    arn = getattr(settings, "SPACEPORT_AWS_PRINCIPAL_ARN", "")
    if arn:
        return arn
    account = getattr(settings, "SPACEPORT_AWS_ACCOUNT_ID", "") or PLACEHOLDER_AWS_ACCOUNT
    return f"arn:aws:iam::{account}:root"


def unset_operator_settings(steps: list[Instruction]) -> list[str]:
    """Settings the operator has not made, shown as placeholders in these steps.

    The customer cannot fill these in themselves, so the wizard says plainly that Spaceport's
    operator has to set them before the policy can be pasted as it is.
    """
    missing = []
    if any(PLACEHOLDER_AWS_ACCOUNT in step.body for step in steps):
        missing.append("SPACEPORT_AWS_ACCOUNT_ID (or SPACEPORT_AWS_PRINCIPAL_ARN)")
    return missing


def s3_permission_policy(bucket: str, prefix: str) -> dict[str, Any]:
    """Least privilege for Spaceport on the bucket: list its part, and manage objects below it."""
    listing: dict[str, Any] = {
        "Sid": "SpaceportList",
        "Effect": "Allow",
        "Action": ["s3:ListBucket", "s3:GetBucketLocation"],
        "Resource": f"arn:aws:s3:::{bucket}",
    }
    if prefix:
        listing["Condition"] = {"StringLike": {"s3:prefix": [f"{prefix}*"]}}
    return {
        "Version": "2012-10-17",
        "Statement": [
            listing,
            {
                "Sid": "SpaceportObjects",
                "Effect": "Allow",
                "Action": [
                    "s3:GetObject",
                    "s3:PutObject",
                    "s3:DeleteObject",
                    "s3:AbortMultipartUpload",
                    "s3:ListMultipartUploadParts",
                ],
                "Resource": f"arn:aws:s3:::{bucket}/{prefix}*",
            },
        ],
    }


def cross_account_trust_policy(external_id: str) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": spaceport_aws_principal()},
                "Action": ["sts:AssumeRole", "sts:SetSourceIdentity", "sts:TagSession"],
                "Condition": {"StringEquals": {"sts:ExternalId": external_id}},
            }
        ],
    }


@dataclass(frozen=True)
class IssuerTrust:
    """What a customer's cloud must trust for one connection: Spaceport's issuer, audience and subject."""

    issuer_url: str
    audience: str
    subject: str
    shared: bool = False

    @property
    def provider_host(self) -> str:
        """IAM names an OIDC provider by its URL without the scheme."""
        parts = urlsplit(self.issuer_url)
        return (parts.netloc + parts.path).rstrip("/") if parts.netloc else self.issuer_url


def issuer_trust(connection: CloudConnection, audience: str) -> IssuerTrust:
    """This connection's issuer, audience and subject; the shared ones when the operator chose an external source."""
    if uses_shared_identity():
        issuer_setting = settings.SPACEPORT_WEB_IDENTITY_ISSUER or settings.OIDC_ISSUER
        return IssuerTrust(
            issuer_setting or PLACEHOLDER_ISSUER,
            settings.SPACEPORT_WEB_IDENTITY_AUDIENCE or audience,
            settings.SPACEPORT_WEB_IDENTITY_SUBJECT or "<spaceport-subject>",
            shared=True,
        )
    try:
        url = issuer.issuer_url()
    except issuer.IssuerNotConfiguredError:
        url = PLACEHOLDER_ISSUER
    subject = workload_subject(connection) if connection.external_id else "<connection-subject>"
    return IssuerTrust(url, audience, subject)


def web_identity_trust_policy(trust: IssuerTrust) -> dict[str, Any]:
    host = trust.provider_host
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": f"arn:aws:iam::<your-account-id>:oidc-provider/{host}"},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {"StringEquals": {f"{host}:aud": trust.audience, f"{host}:sub": trust.subject}},
            }
        ],
    }


def _aws_web_identity(connection: CloudConnection, bucket: str, prefix: str) -> list[Instruction]:
    trust = issuer_trust(connection, settings.SPACEPORT_OIDC_AWS_AUDIENCE)
    return [
        Instruction(
            "Add Spaceport as an OIDC identity provider (once per AWS account)",
            f"aws iam create-open-id-connect-provider --url {trust.issuer_url} --client-id-list {trust.audience}",
            "shell",
        ),
        Instruction(
            "Trust policy for the role (admits this connection's subject only)", _json(web_identity_trust_policy(trust))
        ),
        Instruction("Permission policy for the role", _json(s3_permission_policy(bucket, prefix))),
        Instruction(
            "Or create the role with the AWS CLI",
            "aws iam create-role --role-name SpaceportAccess --assume-role-policy-document file://trust.json\n"
            "aws iam put-role-policy --role-name SpaceportAccess --policy-name spaceport "
            "--policy-document file://permissions.json",
            "shell",
        ),
    ]


def _gcp_workload_identity(connection: CloudConnection, bucket: str) -> list[Instruction]:
    trust = issuer_trust(connection, "https://iam.googleapis.com/projects/<project-number>/...")
    provider = f"spaceport-{connection.name}"[:32].rstrip("-")
    pool = "projects/<project-number>/locations/global/workloadIdentityPools/spaceport"
    account = "<service-account-email>"
    return [
        Instruction(
            "Create a pool and a provider that trusts Spaceport for this connection only",
            "gcloud iam workload-identity-pools create spaceport --location=global --display-name=Spaceport\n"
            f"gcloud iam workload-identity-pools providers create-oidc {provider} \\\n"
            "  --location=global --workload-identity-pool=spaceport \\\n"
            f"  --issuer-uri={trust.issuer_url} \\\n"
            '  --attribute-mapping="google.subject=assertion.sub" \\\n'
            f"  --attribute-condition=\"assertion.sub == '{trust.subject}'\"",
            "shell",
        ),
        Instruction(
            "Let this connection's subject act as the service account",
            f"gcloud iam service-accounts add-iam-policy-binding {account} \\\n"
            "  --role=roles/iam.workloadIdentityUser \\\n"
            f'  --member="principal://iam.googleapis.com/{pool}/subject/{trust.subject}"',
            "shell",
        ),
        Instruction(
            "Grant the service account access to the bucket",
            f"gcloud storage buckets add-iam-policy-binding gs://{bucket} "
            f"--member=serviceAccount:{account} --role=roles/storage.objectAdmin",
            "shell",
        ),
        Instruction(
            "Create the credential configuration to upload in the next step",
            "gcloud iam workload-identity-pools create-cred-config \\\n"
            f"  {pool}/providers/{provider} \\\n"
            f"  --service-account={account} \\\n"
            "  --credential-source-file=spaceport-token --output-file=spaceport-credentials.json\n"
            "# Spaceport ignores the credential source: it signs a fresh token for this connection each time.",
            "shell",
        ),
    ]


def identity_placeholder(text: str) -> bool:
    """Whether a step still says what the operator has yet to configure (the issuer, or Google's accounts)."""
    return PLACEHOLDER_ISSUER in text or PLACEHOLDER_ACCOUNT in text


def google_account(connection: CloudConnection) -> str:
    """The organization's own service account, provisioned on first view so the customer can grant it."""
    try:
        return organization_service_account(connection.organization)
    except StorageError:
        return PLACEHOLDER_ACCOUNT


@dataclass(frozen=True)
class IdentityFact:
    label: str
    value: str


@dataclass(frozen=True)
class SpaceportIdentity:
    """What the customer's cloud trusts for this connection, shown above the steps with copy buttons."""

    facts: tuple[IdentityFact, ...]
    note: str


def spaceport_identity(connection: CloudConnection) -> SpaceportIdentity | None:
    if connection.method == Method.GCP_DIRECT_IAM:
        return SpaceportIdentity(
            (IdentityFact("Your organization's service account", google_account(connection)),),
            "Spaceport reaches your bucket only as this account, which acts for your organization alone: "
            "no other Spaceport customer's connection can use a grant you give it.",
        )
    if connection.method == Method.AWS_WEB_IDENTITY:
        trust = issuer_trust(connection, settings.SPACEPORT_OIDC_AWS_AUDIENCE)
    elif connection.method == Method.GCP_WORKLOAD_IDENTITY:
        trust = issuer_trust(connection, "")
    else:
        return None
    facts = [IdentityFact("Issuer", trust.issuer_url)]
    if trust.audience:
        facts.append(IdentityFact("Audience", trust.audience))
    facts.append(IdentityFact("Subject", trust.subject))
    if trust.shared:
        note = (
            "This Spaceport uses an external identity provider whose subject is the same for every organization "
            "it serves; restrict your trust some other way, or ask the operator to use Spaceport's own issuer."
        )
    else:
        note = (
            "Unique to this connection and fixed: Spaceport signs a short-lived token with this subject each "
            "time it acts for this connection, and the trust below admits no other subject, so no other "
            "Spaceport customer can use it."
        )
    return SpaceportIdentity(tuple(facts), note)


def for_connection(connection: CloudConnection) -> list[Instruction]:
    """Every step for this connection's method, with its bucket, prefix and ExternalId filled in."""
    config = connection.config or {}
    bucket = config.get("bucket") or PLACEHOLDER_BUCKET
    prefix = config.get("prefix", "")
    method = connection.method
    if method == Method.AWS_CROSS_ACCOUNT_ROLE:
        return [
            Instruction("Trust policy for the role", _json(cross_account_trust_policy(connection.external_id or ""))),
            Instruction("Permission policy for the role", _json(s3_permission_policy(bucket, prefix))),
            Instruction(
                "Or with the AWS CLI",
                "aws iam create-role --role-name SpaceportAccess --assume-role-policy-document file://trust.json\n"
                "aws iam put-role-policy --role-name SpaceportAccess --policy-name spaceport "
                "--policy-document file://permissions.json",
                "shell",
            ),
        ]
    if method == Method.AWS_WEB_IDENTITY:
        return _aws_web_identity(connection, bucket, prefix)
    if method == Method.AWS_ACCESS_KEYS:
        return [Instruction("Policy for the IAM user", _json(s3_permission_policy(bucket, prefix)))]
    if method in (Method.S3_STATIC_KEYS, Method.IBM_HMAC, Method.IBM_API_KEY):
        return [
            Instruction(
                "Identity policy for Spaceport's user (S3 policy syntax; VAST, MinIO and Ceph accept it)",
                _json(s3_permission_policy(bucket, prefix)),
            )
        ]
    if method in (Method.AZURE_CONNECTION_STRING, Method.AZURE_SERVICE_PRINCIPAL):
        account_url = config.get("account_url", "https://<account>.blob.core.windows.net")
        account = urlsplit(account_url).hostname.split(".")[0] if urlsplit(account_url).hostname else "<account>"
        steps = [
            Instruction(
                "Create the loadingzone container (one container per space)",
                f"az storage container create --account-name {account} --name loadingzone --auth-mode login",
                "shell",
            )
        ]
        if method == Method.AZURE_SERVICE_PRINCIPAL:
            steps.append(
                Instruction(
                    "Let the application read and write blobs",
                    f"az role assignment create --assignee {config.get('client_id', '<client-id>')} "
                    '--role "Storage Blob Data Contributor" '
                    f"--scope $(az storage account show --name {account} --query id -o tsv)",
                    "shell",
                )
            )
        return steps
    if method == Method.GCP_DIRECT_IAM:
        return [
            Instruction(
                "Grant your organization's Spaceport service account access to the bucket",
                f"gcloud storage buckets add-iam-policy-binding gs://{bucket} "
                f"--member=serviceAccount:{google_account(connection)} --role=roles/storage.objectAdmin",
                "shell",
            )
        ]
    if method == Method.GCP_SERVICE_ACCOUNT_KEY:
        sa = config.get("client_email") or "<service-account-email>"
        return [
            Instruction(
                "Grant the service account access to the bucket",
                f"gcloud storage buckets add-iam-policy-binding gs://{bucket} "
                f"--member=serviceAccount:{sa} --role=roles/storage.objectAdmin",
                "shell",
            )
        ]
    if method == Method.GCP_WORKLOAD_IDENTITY:
        return _gcp_workload_identity(connection, bucket)
    return []
