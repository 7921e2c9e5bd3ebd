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

PLACEHOLDER_BUCKET = "<your-bucket>"


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
    account = getattr(settings, "SPACEPORT_AWS_ACCOUNT_ID", "") or "<spaceport-account-id>"
    return f"arn:aws:iam::{account}:root"


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


def web_identity_trust_policy() -> dict[str, Any]:
    issuer = getattr(settings, "SPACEPORT_WEB_IDENTITY_ISSUER", "") or getattr(settings, "OIDC_ISSUER", "")
    host = (urlsplit(issuer).netloc + urlsplit(issuer).path).rstrip("/") if issuer else "<spaceport-issuer-host>"
    audience = getattr(settings, "SPACEPORT_WEB_IDENTITY_AUDIENCE", "") or "sts.amazonaws.com"
    condition: dict[str, Any] = {f"{host}:aud": audience}
    subject = getattr(settings, "SPACEPORT_WEB_IDENTITY_SUBJECT", "")
    if subject:
        condition[f"{host}:sub"] = subject
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": f"arn:aws:iam::<your-account-id>:oidc-provider/{host}"},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {"StringEquals": condition},
            }
        ],
    }


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
        return [
            Instruction("Trust policy for the role", _json(web_identity_trust_policy())),
            Instruction("Permission policy for the role", _json(s3_permission_policy(bucket, prefix))),
        ]
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
    email = getattr(settings, "SPACEPORT_GCP_SERVICE_ACCOUNT_EMAIL", "") or "<spaceport-service-account>"
    if method == Method.GCP_DIRECT_IAM:
        return [
            Instruction(
                "Grant Spaceport's service account access to the bucket",
                f"gcloud storage buckets add-iam-policy-binding gs://{bucket} "
                f"--member=serviceAccount:{email} --role=roles/storage.objectAdmin",
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
    return [
        Instruction(
            "Create the credential configuration for Spaceport's identity",
            "gcloud iam workload-identity-pools create-cred-config \\\n"
            "  projects/<project-number>/locations/global/workloadIdentityPools/<pool>/providers/<provider> \\\n"
            "  --service-account=<service-account-email> --output-file=spaceport-credentials.json",
            "shell",
        ),
        Instruction(
            "Grant the service account access to the bucket",
            f"gcloud storage buckets add-iam-policy-binding gs://{bucket} "
            "--member=serviceAccount:<service-account-email> --role=roles/storage.objectAdmin",
            "shell",
        ),
    ]
