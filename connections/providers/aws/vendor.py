"""Temporary AWS credentials for one space, narrowed by a session policy and named after the person.

Each connection method has its STS call: a cross-account role is assumed by Spaceport's own
principal with the ExternalId, a web-identity role with Spaceport's identity token, and a
connection with long-term keys asks for a federation token. All three pass the session policy
for the space and access level, and name the person, so the customer's CloudTrail shows who
acted rather than only "Spaceport".
"""

from __future__ import annotations

import logging
import re
import shlex
from abc import ABC, abstractmethod
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from connections.providers.aws.client import (
    AwsClient,
    CrossAccountClient,
    CrossAccountRole,
    RoleClient,
    WebIdentityRole,
)
from connections.providers.aws.methods import ACCESS_KEYS, CROSS_ACCOUNT_ROLE, WEB_IDENTITY
from connections.providers.aws.session_policy import PolicyTooLong, packed, session_policy
from connections.providers.base import StorageError
from connections.providers.vending import Access, Credential, NotVendable, Scope

# Whether credentials carry the person's identity, and so are cached per person (see issuing).
PER_USER = True

if TYPE_CHECKING:
    from connections.models import CloudConnection
    from connections.providers.descriptor import ClientSource

logger = logging.getLogger(__name__)

KIND = "aws_sts"

# How the card names each part of the credential's secret.
SECRET_LABELS = {
    "access_key_id": "Access key ID",
    "secret_access_key": "Secret access key",
    "session_token": "Session token",
}
# How the card names each ready-to-run snippet.
SNIPPET_LABELS = {
    "env": "Environment",
    "aws_cli": "AWS CLI",
    "credentials_file": "~/.aws/credentials",
    "rclone": "rclone",
}
# The bounds STS accepts for DurationSeconds; a role's own maximum may be lower (one hour by default).
ROLE_SECONDS = (900, 43200)
FEDERATION_SECONDS = (900, 129600)
ROLE_DEFAULT_MAX_SECONDS = 3600
STS_NAME_CHARACTERS = re.compile(r"[^\w+=,.@-]", re.ASCII)


def sts_name(label: str, user_id: int, limit: int) -> str:
    """``label`` in the characters STS allows for session names and source identities.

    A name cut to fit ends in the user's id, so two people with the same long prefix stay apart.
    """
    name = STS_NAME_CHARACTERS.sub("-", label.strip())
    if len(name) < 2:
        name = f"user-{user_id}"
    if len(name) > limit:
        tag = f"+{user_id}"
        name = name[: limit - len(tag)] + tag
    return name


def clamp(seconds: int, bounds: tuple[int, int]) -> int:
    low, high = bounds
    return max(low, min(high, seconds))


def refused(error: StorageError) -> NotVendable:
    """A storage refusal as the domain error the API answers with; StorageError messages hold no secret."""
    return NotVendable("connection", f"{error.message} {error.hint}".strip(), error.code)


class StsVendor(ABC):
    """One STS call per credential, sending the space's session policy."""

    per_user = PER_USER
    bounds = ROLE_SECONDS

    def __init__(self, connection: CloudConnection, client: AwsClient) -> None:
        self.connection = connection
        self.client = client

    @abstractmethod
    def request(self, scope: Scope, policy: str, seconds: int) -> dict[str, Any]:
        """Call STS; the answer's ``Credentials`` carry their own expiry."""

    def explain(self, exc: ClientError | BotoCoreError) -> StorageError:
        return self.client.explain(exc)

    def vend(self, scope: Scope) -> Credential:
        try:
            policy = packed(session_policy(scope.location, scope.access))
        except PolicyTooLong as exc:
            raise NotVendable("connection", str(exc), "policy_too_long") from None
        seconds = clamp(int(scope.lifetime.total_seconds()), self.bounds)
        try:
            try:
                response = self.request(scope, policy, seconds)
            except ClientError as exc:
                if seconds <= ROLE_DEFAULT_MAX_SECONDS or not exceeds_role_maximum(exc):
                    raise
                logger.info(
                    "The role allows shorter sessions than asked; vending one of %d s", ROLE_DEFAULT_MAX_SECONDS
                )
                response = self.request(scope, policy, ROLE_DEFAULT_MAX_SECONDS)
        except StorageError as exc:
            raise refused(exc) from None
        except (ClientError, BotoCoreError) as exc:
            raise refused(self.explain(exc)) from None
        issued = response["Credentials"]
        return credential(self.connection, scope, issued)


def exceeds_role_maximum(exc: ClientError) -> bool:
    """STS's answer when a role's MaxSessionDuration (or role chaining's one hour) is below the request."""
    error = exc.response.get("Error", {})
    return error.get("Code") == "ValidationError" and "DurationSeconds exceeds" in str(error.get("Message", ""))


class CrossAccountVendor(StsVendor):
    """AssumeRole by Spaceport's principal, with the ExternalId and the person as source identity.

    The source identity stays with the session even if it assumes further roles, and it needs
    ``sts:SetSourceIdentity`` in the trust policy, which the wizard's trust policy grants.
    """

    def __init__(self, connection: CloudConnection, client: AwsClient, role: CrossAccountRole) -> None:
        super().__init__(connection, client)
        self.role = role

    def explain(self, exc: ClientError | BotoCoreError) -> StorageError:
        error = super().explain(exc)
        if error.code == "trust_policy":
            error.hint += (
                " Vending credentials also sets the person as source identity, so the trust policy must allow "
                "sts:SetSourceIdentity as well as sts:AssumeRole."
            )
        return error

    def request(self, scope: Scope, policy: str, seconds: int) -> dict[str, Any]:
        return dict(
            self.role.sts.assume_role(
                RoleArn=self.role.role_arn,
                RoleSessionName=sts_name(scope.user_label, scope.user_id, 64),
                ExternalId=self.role.external_id,
                SourceIdentity=sts_name(scope.user_label, scope.user_id, 64),
                Policy=policy,
                DurationSeconds=seconds,
            )
        )


class WebIdentityVendor(StsVendor):
    """AssumeRoleWithWebIdentity; the person shows as the session name (the source identity of this
    call can only come from a claim in Spaceport's token, which names the organization and connection)."""

    def __init__(self, connection: CloudConnection, client: AwsClient, role: WebIdentityRole) -> None:
        super().__init__(connection, client)
        self.role = role

    def request(self, scope: Scope, policy: str, seconds: int) -> dict[str, Any]:
        return dict(
            self.role.sts.assume_role_with_web_identity(
                RoleArn=self.role.role_arn,
                RoleSessionName=sts_name(scope.user_label, scope.user_id, 64),
                WebIdentityToken=self.role.token(),
                Policy=policy,
                DurationSeconds=seconds,
            )
        )


class FederationVendor(StsVendor):
    """GetFederationToken with the connection's keys: the only STS call long-term keys can make
    that takes a session policy. The federated user's name (at most 32 characters) is the person."""

    bounds = FEDERATION_SECONDS

    def request(self, scope: Scope, policy: str, seconds: int) -> dict[str, Any]:
        return dict(
            self.client.sts.get_federation_token(
                Name=sts_name(scope.user_label, scope.user_id, 32), Policy=policy, DurationSeconds=seconds
            )
        )


def credential(connection: CloudConnection, scope: Scope, issued: dict[str, Any]) -> Credential:
    config = connection.config
    location = {
        "bucket": scope.location.bucket,
        "prefix": scope.location.prefix,
        "region": str(config.get("region", "")),
        "endpoint_url": str(config.get("endpoint_url") or ""),
    }
    secret = {
        "access_key_id": str(issued["AccessKeyId"]),
        "secret_access_key": str(issued["SecretAccessKey"]),
        "session_token": str(issued["SessionToken"]),
    }
    expiration: datetime = issued["Expiration"]
    return Credential(
        provider=connection.provider,
        kind=KIND,
        access=scope.access,
        expires_at=expiration.astimezone(UTC),
        location=location,
        secret=secret,
        snippets=snippets(location, secret, scope.access),
    )


def snippets(location: dict[str, str], secret: dict[str, str], access: str) -> dict[str, str]:
    """Ready-to-paste ways to use the credential: environment, the AWS CLI, a profile, rclone."""
    q = shlex.quote
    bucket, prefix, region, endpoint = (location[k] for k in ("bucket", "prefix", "region", "endpoint_url"))
    target = f"s3://{bucket}/{prefix}"
    space = prefix.rstrip("/").rsplit("/", 1)[-1] or "space"
    env = [
        f"export AWS_ACCESS_KEY_ID={q(secret['access_key_id'])}",
        f"export AWS_SECRET_ACCESS_KEY={q(secret['secret_access_key'])}",
        f"export AWS_SESSION_TOKEN={q(secret['session_token'])}",
        f"export AWS_DEFAULT_REGION={q(region)}",
    ]
    if endpoint:
        env.append(f"export AWS_ENDPOINT_URL_S3={q(endpoint)}")
    cli = [f"aws s3 ls {q(target)} --recursive", f"aws s3 cp {q(target + 'file.csv')} ."]
    if access in (Access.WRITE, Access.DELETE):
        cli.append(f"aws s3 cp ./file.csv {q(target + 'file.csv')}")
    if access == Access.DELETE:
        cli.append(f"aws s3 rm {q(target + 'file.csv')}")
    profile = [
        f"[spaceport-{space}]",
        f"aws_access_key_id = {secret['access_key_id']}",
        f"aws_secret_access_key = {secret['secret_access_key']}",
        f"aws_session_token = {secret['session_token']}",
        f"region = {region}",
    ]
    if endpoint:
        profile.append(f"endpoint_url = {endpoint}")
    rclone = [
        "export RCLONE_CONFIG_SPACEPORT_TYPE=s3",
        "export RCLONE_CONFIG_SPACEPORT_PROVIDER=AWS",
        f"export RCLONE_CONFIG_SPACEPORT_ACCESS_KEY_ID={q(secret['access_key_id'])}",
        f"export RCLONE_CONFIG_SPACEPORT_SECRET_ACCESS_KEY={q(secret['secret_access_key'])}",
        f"export RCLONE_CONFIG_SPACEPORT_SESSION_TOKEN={q(secret['session_token'])}",
        f"export RCLONE_CONFIG_SPACEPORT_REGION={q(region)}",
        "export RCLONE_CONFIG_SPACEPORT_NO_CHECK_BUCKET=true",
    ]
    if endpoint:
        rclone.append(f"export RCLONE_CONFIG_SPACEPORT_ENDPOINT={q(endpoint)}")
    rclone.append(f"rclone ls {q(f'spaceport:{bucket}/{prefix}')}")
    return {
        "env": "\n".join(env),
        "aws_cli": "\n".join(cli),
        "credentials_file": "\n".join(profile),
        "rclone": "\n".join(rclone),
    }


def profile_settings(connection: CloudConnection) -> dict[str, str]:
    """What an ``~/.aws/config`` profile needs beside ``credential_process``: where the bucket is."""
    config = connection.config
    found = {"region": str(config.get("region") or ""), "endpoint_url": str(config.get("endpoint_url") or "")}
    return {name: value for name, value in found.items() if value}


def build_vendor(connection: CloudConnection, client_for: ClientSource) -> StsVendor:
    """The vendor for the connection's method, sharing the provider client's STS client and identity token."""
    try:
        client = client_for(connection)
    except StorageError as exc:
        raise refused(exc) from None
    if not isinstance(client, AwsClient):
        raise NotVendable("connection", "This connection is not an Amazon S3 connection.", "wrong_provider")
    if connection.method == CROSS_ACCOUNT_ROLE and isinstance(client, CrossAccountClient):
        return CrossAccountVendor(connection, client, client.role)
    if (
        connection.method == WEB_IDENTITY
        and isinstance(client, RoleClient)
        and isinstance(client.role, WebIdentityRole)
    ):
        return WebIdentityVendor(connection, client, client.role)
    if connection.method == ACCESS_KEYS:
        return FederationVendor(connection, client)
    raise NotVendable(
        "connection", f"Cannot vend credentials for the method {connection.method}.", "unsupported_method"
    )
