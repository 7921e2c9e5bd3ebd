"""What a customer does in AWS for each method: the trust and permission policies, filled in."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.conf import settings

from connections.providers.aws.methods import ACCESS_KEYS, CROSS_ACCOUNT_ROLE, WEB_IDENTITY
from connections.providers.aws.rotation import rotation_statement
from connections.providers.s3.instructions import s3_permission_policy
from connections.providers.wizard import (
    PLACEHOLDER_BUCKET,
    Instruction,
    IssuerTrust,
    SpaceportIdentity,
    as_json,
    issuer_trust,
    trusted_identity,
)

if TYPE_CHECKING:
    from connections.models import CloudConnection

PLACEHOLDER_AWS_ACCOUNT = "<spaceport-account-id>"
# Placeholders the customer cannot fill in, with the operator's setting that does.
OPERATOR_SETTINGS = {PLACEHOLDER_AWS_ACCOUNT: "SPACEPORT_AWS_ACCOUNT_ID (or SPACEPORT_AWS_PRINCIPAL_ARN)"}


def spaceport_aws_principal() -> str:
    """The AWS principal customers trust: the configured ARN, or the account root."""
    arn = getattr(settings, "SPACEPORT_AWS_PRINCIPAL_ARN", "")
    if arn:
        return arn
    account = getattr(settings, "SPACEPORT_AWS_ACCOUNT_ID", "") or PLACEHOLDER_AWS_ACCOUNT
    return f"arn:aws:iam::{account}:root"


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


def web_identity_steps(connection: CloudConnection, bucket: str, prefix: str) -> list[Instruction]:
    trust = issuer_trust(connection, settings.SPACEPORT_OIDC_AWS_AUDIENCE)
    return [
        Instruction(
            "Add Spaceport as an OIDC identity provider (once per AWS account)",
            f"aws iam create-open-id-connect-provider --url {trust.issuer_url} --client-id-list {trust.audience}",
            "shell",
        ),
        Instruction(
            "Trust policy for the role (admits this connection's subject only)",
            as_json(web_identity_trust_policy(trust)),
        ),
        Instruction("Permission policy for the role", as_json(s3_permission_policy(bucket, prefix))),
        Instruction(
            "Or create the role with the AWS CLI",
            "aws iam create-role --role-name SpaceportAccess --assume-role-policy-document file://trust.json\n"
            "aws iam put-role-policy --role-name SpaceportAccess --policy-name spaceport "
            "--policy-document file://permissions.json",
            "shell",
        ),
    ]


def steps(connection: CloudConnection) -> list[Instruction]:
    """Every step for this connection's method, with its bucket, prefix and ExternalId filled in."""
    config = connection.config or {}
    bucket = config.get("bucket") or PLACEHOLDER_BUCKET
    prefix = config.get("prefix", "")
    if connection.method == CROSS_ACCOUNT_ROLE:
        return [
            Instruction("Trust policy for the role", as_json(cross_account_trust_policy(connection.external_id or ""))),
            Instruction("Permission policy for the role", as_json(s3_permission_policy(bucket, prefix))),
            Instruction(
                "Or with the AWS CLI",
                "aws iam create-role --role-name SpaceportAccess --assume-role-policy-document file://trust.json\n"
                "aws iam put-role-policy --role-name SpaceportAccess --policy-name spaceport "
                "--policy-document file://permissions.json",
                "shell",
            ),
        ]
    if connection.method == WEB_IDENTITY:
        return web_identity_steps(connection, bucket, prefix)
    if connection.method == ACCESS_KEYS:
        return [
            Instruction("Policy for the IAM user", as_json(s3_permission_policy(bucket, prefix))),
            Instruction(
                "If Spaceport rotates the key: add this statement, which lets the user manage its own access keys",
                as_json({"Version": "2012-10-17", "Statement": [rotation_statement()]}),
            ),
        ]
    return []


def identity(connection: CloudConnection) -> SpaceportIdentity | None:
    """Web identity trusts Spaceport's issuer for this connection's subject; the other methods trust no issuer."""
    if connection.method != WEB_IDENTITY:
        return None
    return trusted_identity(issuer_trust(connection, settings.SPACEPORT_OIDC_AWS_AUDIENCE))
