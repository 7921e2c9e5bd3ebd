"""What disabling a connection withdraws at once, and how long the rest stays valid.

Only an Azure SAS signed with the account key can be recalled by Spaceport (its stored access
policy is removed). Every other credential is a bearer token that the cloud honours until it
expires: the pages say so, with the longest time it may have left, and show the customer's own
step where the cloud offers one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.conf import settings

from connections.methods import Method
from connections.models import CloudConnection

# A GCS downscoped token lives as long as the access token it was cut from: one hour.
GCS_TOKEN_MINUTES = 60


@dataclass(frozen=True)
class Step:
    """Something the customer can do in their cloud to withdraw what Spaceport cannot."""

    title: str
    command: str
    language: str = "shell"


@dataclass(frozen=True)
class Revocability:
    revoked_at_once: bool
    summary: str
    steps: list[Step] = field(default_factory=list)


def span(minutes: int) -> str:
    """``720`` as "12 hours", ``90`` as "90 minutes": how the pages say a lifetime."""
    if minutes >= 120 and minutes % 60 == 0:
        return f"{minutes // 60} hours"
    if minutes == 60:
        return "1 hour"
    return f"{minutes} minutes"


def longest_lifetimes() -> str:
    """The configured longest lifetimes, as "12 hours for reading, 4 hours for writing and 1 hour for deleting"."""
    limits = settings.SPACEPORT_CREDENTIAL_MAX_LIFETIME_MINUTES
    return (
        f"{span(limits['read'])} for reading, {span(limits['write'])} for writing "
        f"and {span(limits['delete'])} for deleting"
    )


def _role_name(role_arn: str) -> str:
    return role_arn.rsplit("/", 1)[-1] if "/" in role_arn else "<role-name>"


def revoke_older_sessions(now: datetime | None = None) -> str:
    """AWS's own "Revoke active sessions" policy: deny every request signed with credentials issued before now."""
    moment = (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Deny",
                    "Action": ["*"],
                    "Resource": ["*"],
                    "Condition": {"DateLessThan": {"aws:TokenIssueTime": moment}},
                }
            ],
        }
    )


def _aws_role(connection: CloudConnection, what: str) -> Revocability:
    name = _role_name(str(connection.config.get("role_arn", "")))
    return Revocability(
        False,
        f"{what} cannot be recalled by Spaceport: each stays valid until it expires, at most {longest_lifetimes()} "
        "(and never longer than the role's maximum session duration). To end them now, revoke the role's "
        "active sessions in AWS.",
        [
            Step(
                f"In the AWS console: IAM > Roles > {name} > Revoke sessions > Revoke active sessions",
                f"aws iam put-role-policy --role-name {name} --policy-name AWSRevokeOlderSessions "
                f"--policy-document '{revoke_older_sessions()}'",
            )
        ],
    )


def _azure_account_key(connection: CloudConnection) -> Revocability:
    secret = str((connection.secret or {}).get("connection_string", "")).lower()
    if "sharedaccesssignature=" in secret:
        return Revocability(
            True, "Spaceport issues no tokens through a connection string without an account key: nothing to revoke."
        )
    return Revocability(
        True,
        "Every SAS token Spaceport issued through this connection stops working at once: each names a stored "
        "access policy on its container, and disabling removes those policies (Azure applies this within "
        "30 seconds).",
    )


def _azure_delegation(connection: CloudConnection) -> Revocability:
    account = str(connection.config.get("account_url", "")).split("//")[-1].split(".")[0] or "<account>"
    return Revocability(
        False,
        "User-delegation SAS tokens cannot be issued under stored access policies, so Spaceport cannot recall "
        f"them: each stays valid until it expires, at most {longest_lifetimes()}. Revoking the storage account's "
        "user delegation keys ends them now, together with every other user-delegation SAS of the account.",
        [
            Step(
                "Revoke all user delegation keys of the storage account",
                f"az storage account revoke-delegation-keys --name {account} --resource-group <resource-group>",
            )
        ],
    )


def _gcs(connection: CloudConnection) -> Revocability:
    return Revocability(
        False,
        "Downscoped Cloud Storage tokens cannot be recalled: each stays valid until it expires, at most "
        f"{span(GCS_TOKEN_MINUTES)} (the lifetime of the access token it was cut from).",
    )


def _presigned(connection: CloudConnection) -> Revocability:
    return Revocability(
        False,
        "Presigned URLs cannot be recalled while the keys that signed them are valid: each stays valid until it "
        f"expires, at most {longest_lifetimes()}. Rotating the access key ends them all now.",
    )


def _aws_keys(connection: CloudConnection) -> Revocability:
    return Revocability(
        False,
        "Federation-token credentials cannot be recalled by Spaceport: each stays valid until it expires, at most "
        f"{longest_lifetimes()}. Denying the IAM user every request signed before now ends them at once.",
        [
            Step(
                "Deny the IAM user's credentials issued before now",
                "aws iam put-user-policy --user-name <iam-user> --policy-name AWSRevokeOlderSessions "
                f"--policy-document '{revoke_older_sessions()}'",
            )
        ],
    )


def _none(connection: CloudConnection) -> Revocability:
    return Revocability(True, "Spaceport issues no credentials through this method: nothing to revoke.")


BY_METHOD = {
    Method.AZURE_CONNECTION_STRING: _azure_account_key,
    Method.AZURE_SERVICE_PRINCIPAL: _azure_delegation,
    Method.AWS_CROSS_ACCOUNT_ROLE: lambda c: _aws_role(c, "STS credentials from the cross-account role"),
    Method.AWS_WEB_IDENTITY: lambda c: _aws_role(c, "STS credentials from the web identity role"),
    Method.AWS_ACCESS_KEYS: _aws_keys,
    Method.GCP_SERVICE_ACCOUNT_KEY: _gcs,
    Method.GCP_WORKLOAD_IDENTITY: _gcs,
    Method.GCP_DIRECT_IAM: _gcs,
    Method.IBM_API_KEY: _none,
    Method.IBM_HMAC: _presigned,
    Method.S3_STATIC_KEYS: _presigned,
}


def revocability(connection: CloudConnection) -> Revocability:
    """What disabling ``connection`` withdraws, said plainly for the disable page and the credentials card."""
    explain = BY_METHOD.get(connection.method) if connection.method else None
    return explain(connection) if explain is not None else _none(connection)
