"""What a customer does in Google Cloud for each method: pools, providers and bucket grants, filled in."""

from __future__ import annotations

from typing import TYPE_CHECKING

from connections.providers.base import StorageError
from connections.providers.gcp.accounts import organization_service_account
from connections.providers.gcp.methods import DIRECT_IAM, SERVICE_ACCOUNT_KEY, WORKLOAD_IDENTITY
from connections.providers.wizard import (
    PLACEHOLDER_ACCOUNT,
    PLACEHOLDER_BUCKET,
    IdentityFact,
    Instruction,
    SpaceportIdentity,
    issuer_trust,
    trusted_identity,
)

if TYPE_CHECKING:
    from connections.models import CloudConnection


def google_account(connection: CloudConnection) -> str:
    """The organization's own service account, provisioned on first view so the customer can grant it."""
    try:
        return organization_service_account(connection.organization)
    except StorageError:
        return PLACEHOLDER_ACCOUNT


def workload_identity_steps(connection: CloudConnection, bucket: str) -> list[Instruction]:
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


def steps(connection: CloudConnection) -> list[Instruction]:
    """Every step for this connection's method, with its bucket and service account filled in."""
    config = connection.config or {}
    bucket = config.get("bucket") or PLACEHOLDER_BUCKET
    if connection.method == DIRECT_IAM:
        return [
            Instruction(
                "Grant your organization's Spaceport service account access to the bucket",
                f"gcloud storage buckets add-iam-policy-binding gs://{bucket} "
                f"--member=serviceAccount:{google_account(connection)} --role=roles/storage.objectAdmin",
                "shell",
            )
        ]
    if connection.method == SERVICE_ACCOUNT_KEY:
        account = config.get("client_email") or "<service-account-email>"
        return [
            Instruction(
                "Grant the service account access to the bucket",
                f"gcloud storage buckets add-iam-policy-binding gs://{bucket} "
                f"--member=serviceAccount:{account} --role=roles/storage.objectAdmin",
                "shell",
            )
        ]
    if connection.method == WORKLOAD_IDENTITY:
        return workload_identity_steps(connection, bucket)
    return []


def identity(connection: CloudConnection) -> SpaceportIdentity | None:
    """Direct IAM acts as the organization's own service account; workload identity trusts Spaceport's issuer."""
    if connection.method == DIRECT_IAM:
        return SpaceportIdentity(
            (IdentityFact("Your organization's service account", google_account(connection)),),
            "Spaceport reaches your bucket only as this account, which acts for your organization alone: "
            "no other Spaceport customer's connection can use a grant you give it.",
        )
    if connection.method == WORKLOAD_IDENTITY:
        return trusted_identity(issuer_trust(connection, ""))
    return None
