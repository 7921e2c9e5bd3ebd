"""Long-term keys rotated by their own IAM user: create the next key, and later delete the old one.

Every call is signed with a key of the connection's IAM user and names that user as IAM reports
it (``GetUser`` without a name answers for the caller), so a rotation can only ever touch the
user whose key the customer entered. IAM is global: its endpoint is AWS's own unless the
connection names another endpoint (a VPC endpoint, or an emulator), and every request passes
the outbound address policy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from connections.egress_http import guard_botocore
from connections.providers.aws.methods import ACCESS_KEYS
from connections.providers.rotating import IssuedKey, KeyRotation, RotationFailed
from connections.providers.sdk import botocore_session

if TYPE_CHECKING:
    from connections.models import CloudConnection

IAM_CONFIG = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=10, read_timeout=30)
IAM_REGION = "us-east-1"
# IAM allows two access keys per user: rotating needs a free place for the next one.
KEYS_PER_USER = 2
# What the IAM user needs for Spaceport to rotate its key, shown in the wizard's policy.
ROTATION_ACTIONS = ("iam:CreateAccessKey", "iam:DeleteAccessKey", "iam:ListAccessKeys", "iam:GetUser")
DENIED = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"}


def rotation_statement(account: str = "<your-account-id>") -> dict[str, Any]:
    """The IAM statement that lets a user manage its own access keys and nobody else's."""
    return {
        "Sid": "SpaceportRotatesThisKey",
        "Effect": "Allow",
        "Action": list(ROTATION_ACTIONS),
        "Resource": f"arn:aws:iam::{account}:user/${{aws:username}}",
    }


def iam(connection: CloudConnection) -> Any:
    """IAM signed with the key ``connection`` holds."""
    config = connection.config
    secret = connection.secret or {}
    client = botocore_session().create_client(
        "iam",
        region_name=IAM_REGION,
        endpoint_url=config.get("endpoint_url") or None,
        aws_access_key_id=config["access_key_id"],
        aws_secret_access_key=secret.get("secret_access_key", ""),
        config=IAM_CONFIG,
    )
    return guard_botocore(client)


def _refused(action: str, exc: Exception) -> RotationFailed:
    """What an IAM refusal means for the customer; the SDK's own text is left out (it may quote input)."""
    code = str(exc.response.get("Error", {}).get("Code", "")) if isinstance(exc, ClientError) else ""
    if code in DENIED:
        return RotationFailed(
            f"AWS refused {action}: the IAM user may not manage its own access keys.",
            f"Add {', '.join(ROTATION_ACTIONS)} on arn:aws:iam::<your-account-id>:user/${{aws:username}} to the "
            "user's policy (the connection's setup page shows the statement).",
        )
    if code == "LimitExceeded":
        return RotationFailed(
            f"AWS refused {action}: the IAM user already has {KEYS_PER_USER} access keys.",
            "Delete the key Spaceport does not use (the one not shown on the connection), then Spaceport rotates "
            "at its next run.",
        )
    if code in ("InvalidClientTokenId", "SignatureDoesNotMatch"):
        return RotationFailed(
            f"AWS refused {action}: the connection's key is not valid.",
            "Validate the connection; enter a working key before rotation can continue.",
        )
    reason = code or type(exc).__name__
    return RotationFailed(f"{action} failed ({reason}).", "Spaceport tries again at its next run.")


def key_id(connection: CloudConnection) -> str:
    return str(connection.config.get("access_key_id", ""))


def user_name(client: Any) -> str:
    try:
        return str(client.get_user()["User"]["UserName"])
    except (ClientError, BotoCoreError) as exc:
        raise _refused("iam:GetUser", exc) from None


def issue(connection: CloudConnection) -> IssuedKey:
    """Create the IAM user's next access key, refusing early when the user has no room for one."""
    client = iam(connection)
    name = user_name(client)
    try:
        keys = client.list_access_keys(UserName=name)["AccessKeyMetadata"]
    except (ClientError, BotoCoreError) as exc:
        raise _refused("iam:ListAccessKeys", exc) from None
    if len(keys) >= KEYS_PER_USER:
        others = sorted(k["AccessKeyId"] for k in keys if k["AccessKeyId"] != key_id(connection))
        raise RotationFailed(
            f"The IAM user {name} already has {KEYS_PER_USER} access keys, so no new one can be created.",
            f"Delete the key this connection does not use ({', '.join(others)}) in IAM; Spaceport rotates at its "
            "next run.",
        )
    try:
        created = client.create_access_key(UserName=name)["AccessKey"]
    except (ClientError, BotoCoreError) as exc:
        raise _refused("iam:CreateAccessKey", exc) from None
    config = {**connection.config, "access_key_id": created["AccessKeyId"]}
    secret = {**(connection.secret or {}), "secret_access_key": created["SecretAccessKey"]}
    return IssuedKey(created["AccessKeyId"], config, secret)


def withdraw(connection: CloudConnection, access_key_id: str) -> None:
    """Delete ``access_key_id`` of the user whose key ``connection`` holds."""
    client = iam(connection)
    name = user_name(client)
    try:
        client.delete_access_key(UserName=name, AccessKeyId=access_key_id)
    except ClientError as exc:
        if str(exc.response.get("Error", {}).get("Code", "")) == "NoSuchEntity":
            return
        raise _refused("iam:DeleteAccessKey", exc) from None
    except BotoCoreError as exc:
        raise _refused("iam:DeleteAccessKey", exc) from None


ROTATION = KeyRotation(methods=frozenset({ACCESS_KEYS}), key_id=key_id, issue=issue, withdraw=withdraw)
