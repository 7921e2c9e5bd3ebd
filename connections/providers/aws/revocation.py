"""AWS credentials Spaceport vends are bearer tokens; the customer can end them early with AWS's own deny policy."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from connections.providers.aws.methods import ACCESS_KEYS, CROSS_ACCOUNT_ROLE, WEB_IDENTITY
from connections.providers.revoking import Revocability, Step, longest_lifetimes, nothing_issued

if TYPE_CHECKING:
    from connections.models import CloudConnection


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


def revocability(connection: CloudConnection) -> Revocability:
    if connection.method == CROSS_ACCOUNT_ROLE:
        return _aws_role(connection, "STS credentials from the cross-account role")
    if connection.method == WEB_IDENTITY:
        return _aws_role(connection, "STS credentials from the web identity role")
    if connection.method == ACCESS_KEYS:
        return _aws_keys(connection)
    return nothing_issued(connection)
