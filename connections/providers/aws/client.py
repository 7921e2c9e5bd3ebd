"""Amazon S3 through long-term keys, a cross-account role, or OIDC web identity.

Temporary credentials live in botocore's refreshable credentials, which fetch new ones before
the old expire, so a client kept for a day keeps working (a store that assumes a role once
fails after an hour).
"""

from __future__ import annotations

import logging
import re
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from botocore import UNSIGNED
from botocore.config import Config
from botocore.credentials import (
    CredentialProvider,
    CredentialResolver,
    DeferredRefreshableCredentials,
    ReadOnlyCredentials,
)
from botocore.exceptions import ClientError, NoCredentialsError, PartialCredentialsError
from django.conf import settings

from connections.egress_http import guard_botocore
from connections.providers.aws.methods import CROSS_ACCOUNT_ROLE, WEB_IDENTITY
from connections.providers.base import Check, StorageError
from connections.providers.identity import TokenSource, connection_token_source, uses_shared_identity
from connections.providers.s3.client import S3Client
from connections.providers.s3.session import fixed_keys, s3_config, s3_session, static_key_s3
from connections.providers.sdk import botocore_session

if TYPE_CHECKING:
    from connections.models import CloudConnection

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]

STS_CONFIG = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=10, read_timeout=30)
SESSION_NAME_CHARACTERS = re.compile(r"[^\w+=,.@-]")
TRUST_DENIED = {"AccessDenied", "AccessDeniedException"}


def session_name(connection: CloudConnection) -> str:
    """Shows up in the customer's CloudTrail, so they can tell Spaceport's sessions apart."""
    return SESSION_NAME_CHARACTERS.sub("-", f"spaceport-{connection.organization.name}")[:64]


def spaceport_sts(region: str) -> Any:
    """STS signed by Spaceport's own principal: configured keys, or boto3's default chain."""
    session = botocore_session()
    keys: dict[str, str] = {}
    if settings.SPACEPORT_AWS_ACCESS_KEY_ID:
        keys = {
            "aws_access_key_id": settings.SPACEPORT_AWS_ACCESS_KEY_ID,
            "aws_secret_access_key": settings.SPACEPORT_AWS_SECRET_ACCESS_KEY,
        }
    return session.create_client(
        "sts", region_name=region, endpoint_url=settings.SPACEPORT_AWS_STS_ENDPOINT or None, config=STS_CONFIG, **keys
    )


class SessionCredentials(DeferredRefreshableCredentials):
    """Refreshable credentials whose refresh windows scale with the session's length.

    botocore refreshes 15 minutes before expiry; for a 15-minute session that would mean a new
    AssumeRole on every request, so short sessions refresh at a quarter of their lifetime.
    """

    def __init__(
        self, refresh_using: Callable[[], dict[str, str]], method: str, duration: int, clock: Clock | None
    ) -> None:
        if clock is None:
            super().__init__(refresh_using=refresh_using, method=method)
        else:
            super().__init__(refresh_using=refresh_using, method=method, time_fetcher=clock)
        self._advisory_refresh_timeout = min(15 * 60, duration // 4)
        self._mandatory_refresh_timeout = min(10 * 60, duration // 6)


class _Provides(CredentialProvider):
    """Hands botocore one credentials object, so the S3 client never looks at the host's profile."""

    METHOD = "spaceport"

    def __init__(self, credentials: SessionCredentials) -> None:
        super().__init__()
        self._credentials = credentials

    def load(self) -> SessionCredentials:
        return self._credentials


class RoleSession(ABC):
    """One role's temporary credentials, assumed on first use and again before they expire."""

    method = "spaceport-assume-role"

    def __init__(self, connection: CloudConnection, sts: Any, *, clock: Clock | None = None) -> None:
        self.role_arn: str = connection.config["role_arn"]
        self.session_name = session_name(connection)
        self.duration = settings.SPACEPORT_AWS_SESSION_SECONDS
        self.sts = sts
        self.assumed_arn = ""
        self.expires_at: datetime | None = None
        self.credentials = SessionCredentials(self._fetch, self.method, self.duration, clock)

    @abstractmethod
    def assume(self) -> dict[str, Any]:
        """Call STS once; the response's credentials carry their own expiry."""

    def _fetch(self) -> dict[str, str]:
        response = self.assume()
        issued = response["Credentials"]
        self.assumed_arn = response["AssumedRoleUser"]["Arn"]
        self.expires_at = issued["Expiration"]
        logger.info("Assumed %s until %s", self.assumed_arn, issued["Expiration"].isoformat())
        return {
            "access_key": issued["AccessKeyId"],
            "secret_key": issued["SecretAccessKey"],
            "token": issued["SessionToken"],
            "expiry_time": issued["Expiration"].isoformat(),
        }

    def s3(self, region: str, endpoint_url: str | None) -> Any:
        session = s3_session()
        session.register_component("credential_provider", CredentialResolver([_Provides(self.credentials)]))
        s3 = session.create_client("s3", region_name=region, endpoint_url=endpoint_url, config=s3_config())
        return guard_botocore(s3)


class CrossAccountRole(RoleSession):
    """Spaceport's principal assumes the customer's role, proving who it acts for with the ExternalId."""

    def __init__(self, connection: CloudConnection, *, clock: Clock | None = None) -> None:
        if not connection.external_id:
            raise StorageError(
                "not_configured",
                "This connection has no ExternalId, so its role cannot be assumed safely.",
                "Create the connection again with the wizard, which issues the ExternalId.",
            )
        super().__init__(connection, spaceport_sts(connection.config["region"]), clock=clock)
        self.external_id = connection.external_id

    def assume(self) -> dict[str, Any]:
        return dict(
            self.sts.assume_role(
                RoleArn=self.role_arn,
                RoleSessionName=self.session_name,
                ExternalId=self.external_id,
                DurationSeconds=self.duration,
            )
        )

    def assume_without_external_id(self) -> None:
        """What a stranger who learned the role ARN could do; success means the role is exposed."""
        self.sts.assume_role(RoleArn=self.role_arn, RoleSessionName=self.session_name, DurationSeconds=900)


class WebIdentityRole(RoleSession):
    """Spaceport trades a token from its own identity provider for the role; no secret is stored."""

    method = "spaceport-web-identity"

    def __init__(self, connection: CloudConnection, token: TokenSource, *, clock: Clock | None = None) -> None:
        session = botocore_session()
        sts = session.create_client(
            "sts",
            region_name=connection.config["region"],
            endpoint_url=settings.SPACEPORT_AWS_STS_ENDPOINT or None,
            config=STS_CONFIG.merge(Config(signature_version=UNSIGNED)),
        )
        super().__init__(connection, sts, clock=clock)
        self.token = token

    def assume(self) -> dict[str, Any]:
        return dict(
            self.sts.assume_role_with_web_identity(
                RoleArn=self.role_arn,
                RoleSessionName=self.session_name,
                WebIdentityToken=self.token(),
                DurationSeconds=self.duration,
            )
        )


class AwsClient(S3Client):
    """S3 with long-term keys: authentication asks STS whose keys they are."""

    def __init__(
        self,
        connection: CloudConnection,
        s3: Any,
        *,
        identity: str,
        credentials: Callable[[], ReadOnlyCredentials],
        sts: Any = None,
    ) -> None:
        super().__init__(connection, s3, endpoint=s3.meta.endpoint_url, identity=identity, credentials=credentials)
        self.sts = sts

    def authenticate(self) -> str:
        arn = self.sts.get_caller_identity()["Arn"]
        return f"Acting as {arn}."

    def explain(self, exc: Exception) -> StorageError:
        if isinstance(exc, ClientError) and exc.operation_name.startswith("AssumeRole"):
            return self.explain_sts(exc)
        return super().explain(exc)

    def explain_sts(self, exc: ClientError) -> StorageError:
        return super().explain(exc)


class RoleClient(AwsClient):
    """S3 with a role's temporary credentials, which refresh themselves under every request."""

    def __init__(self, connection: CloudConnection, role: RoleSession) -> None:
        config = connection.config
        s3 = role.s3(config["region"], config.get("endpoint_url") or None)
        super().__init__(
            connection, s3, identity=f"role {role.role_arn}", credentials=role.credentials.get_frozen_credentials
        )
        self.role = role

    def authenticate(self) -> str:
        self.role.credentials.get_frozen_credentials()
        until = self.role.expires_at.isoformat(timespec="minutes") if self.role.expires_at else "unknown"
        return f"Assumed {self.role.assumed_arn} (temporary credentials, valid until {until})."

    def explain(self, exc: Exception) -> StorageError:
        if isinstance(exc, NoCredentialsError | PartialCredentialsError):
            return StorageError(
                "spaceport_credentials",
                "Spaceport has no AWS credentials of its own to assume the role with.",
                "An administrator must set SPACEPORT_AWS_ACCESS_KEY_ID and SPACEPORT_AWS_SECRET_ACCESS_KEY, or run "
                "Spaceport with an instance profile or IRSA role.",
            )
        return super().explain(exc)

    def explain_sts(self, exc: ClientError) -> StorageError:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if exc.operation_name == "AssumeRoleWithWebIdentity":
            return self._explain_web_identity(exc, code)
        if code in TRUST_DENIED:
            principal = settings.SPACEPORT_AWS_PRINCIPAL_ARN or "Spaceport's principal"
            return StorageError(
                "trust_policy",
                f"AWS refused to let Spaceport assume {self.role.role_arn}.",
                f"The role's trust policy does not allow Spaceport ({principal}) with this ExternalId: trust that "
                f"principal on the condition sts:ExternalId = {self.connection.external_id}. If it already does, "
                "Spaceport's own principal may lack sts:AssumeRole: tell the Spaceport administrator.",
            )
        if code in ("InvalidClientTokenId", "SignatureDoesNotMatch"):
            return StorageError(
                "spaceport_credentials",
                "Spaceport's own AWS credentials were refused.",
                "This is not a problem with your role: the Spaceport administrator must fix "
                "SPACEPORT_AWS_ACCESS_KEY_ID and SPACEPORT_AWS_SECRET_ACCESS_KEY.",
            )
        return super().explain_sts(exc)

    def _explain_web_identity(self, exc: ClientError, code: str) -> StorageError:
        if code in TRUST_DENIED:
            subject = "Spaceport's subject" if uses_shared_identity() else "this connection's subject"
            return StorageError(
                "trust_policy",
                f"AWS refused to let Spaceport's identity assume {self.role.role_arn}.",
                f"The role's trust policy does not allow {subject}: copy the trust policy from this connection's "
                "setup page, which names Spaceport's OIDC provider, its audience and the subject.",
            )
        if code in ("InvalidIdentityToken", "IDPRejectedClaim", "ExpiredTokenException"):
            return StorageError(
                "web_identity",
                "AWS did not accept Spaceport's identity token.",
                "Add Spaceport's identity provider to IAM as an OIDC provider, with Spaceport's audience.",
                transient=code == "ExpiredTokenException",
            )
        if code == "IDPCommunicationError":
            return StorageError(
                "web_identity", "AWS could not reach Spaceport's identity provider.", "Retry later.", transient=True
            )
        return super().explain_sts(exc)


class CrossAccountClient(RoleClient):
    role: CrossAccountRole

    def extra_checks(self) -> list[Check]:
        """Whether the trust policy stops strangers: assume the role again, without the ExternalId."""
        started = time.monotonic()
        try:
            self.role.assume_without_external_id()
        except ClientError as exc:
            elapsed = int((time.monotonic() - started) * 1000)
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in TRUST_DENIED:
                message = "The role's trust policy requires the ExternalId."
                return [Check("external_id", True, message, duration_ms=elapsed)]
            error = self.explain(exc)
            return [
                Check(
                    "external_id",
                    False,
                    f"Could not check whether the trust policy requires the ExternalId: {error.message}",
                    hint=error.hint,
                    skipped=True,
                    duration_ms=elapsed,
                )
            ]
        return [
            Check(
                "external_id",
                True,
                "The role's trust policy does not require the ExternalId: anyone who learns the role ARN could make "
                "a SaaS vendor act in your account (confused deputy). Add the sts:ExternalId condition.",
                hint=f'Add "Condition": {{"StringEquals": {{"sts:ExternalId": "{self.connection.external_id}"}}}} '
                "to the statement that trusts Spaceport.",
                warning=True,
                duration_ms=int((time.monotonic() - started) * 1000),
            )
        ]


def build_client(connection: CloudConnection, *, clock: Clock | None = None) -> AwsClient:
    """``clock`` lets a test move time forward to the point where credentials must be refreshed."""
    config = connection.config
    if connection.method == CROSS_ACCOUNT_ROLE:
        return CrossAccountClient(connection, CrossAccountRole(connection, clock=clock))
    if connection.method == WEB_IDENTITY:
        token = connection_token_source(connection, settings.SPACEPORT_OIDC_AWS_AUDIENCE)
        return RoleClient(connection, WebIdentityRole(connection, token, clock=clock))
    secret = connection.secret or {}
    keys = {"aws_access_key_id": config["access_key_id"], "aws_secret_access_key": secret.get("secret_access_key", "")}
    s3 = static_key_s3(
        endpoint_url=config.get("endpoint_url") or None,
        region=config["region"],
        access_key_id=keys["aws_access_key_id"],
        secret_access_key=keys["aws_secret_access_key"],
        config=s3_config(),
    )
    sts = botocore_session().create_client(
        "sts",
        region_name=config["region"],
        endpoint_url=settings.SPACEPORT_AWS_STS_ENDPOINT or None,
        config=STS_CONFIG,
        **keys,
    )
    return AwsClient(
        connection,
        s3,
        identity=f"access key {config['access_key_id']}",
        credentials=fixed_keys(keys["aws_access_key_id"], keys["aws_secret_access_key"]),
        sts=sts,
    )
