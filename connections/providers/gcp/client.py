"""Google Cloud Storage: one bucket per connection, one prefix per space.

Credentials come from a service-account key, a workload identity federation configuration, or
Spaceport's own identity (direct IAM binding). Each client keeps one credentials object, which
google-auth refreshes shortly before its token expires.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import requests
from google.api_core import exceptions as api_errors
from google.api_core.retry import Retry
from google.auth import exceptions as auth_errors
from google.auth.credentials import Credentials
from google.auth.transport.requests import AuthorizedSession, Request
from google.cloud import storage
from google.cloud.storage.retry import DEFAULT_RETRY
from google.oauth2 import service_account

from connections.egress import found_in
from connections.egress_http import NoRedirects, guard_session
from connections.providers.base import (
    Copy,
    Folder,
    Location,
    StorageClient,
    StorageError,
    StoredObject,
    copy_vanished,
)
from connections.providers.gcp.accounts import organization_service_account
from connections.providers.gcp.identity import check_google_host, impersonated
from connections.providers.gcp.methods import DIRECT_IAM, METHODS, SERVICE_ACCOUNT_KEY, WORKLOAD_IDENTITY
from connections.providers.identity import TokenSource, connection_token_source

if TYPE_CHECKING:
    from connections.models import CloudConnection

SCOPES = ["https://www.googleapis.com/auth/devstorage.read_write"]
AWS_SUBJECT_TOKEN_TYPE = "urn:ietf:params:aws:token-type:aws4_request"  # noqa: S105 - a token type, not a token
PAGE_SIZE = 1000
TIMEOUT = (10, 60)
RETRY: Retry = DEFAULT_RETRY.with_timeout(20.0)
PERMISSION = re.compile(r"storage\.[a-zA-Z]+\.[a-zA-Z]+")
# Methods whose tokens derive from Spaceport's own identity: they go to Google's hosts only.
LABELS = {spec.method: spec.label for spec in METHODS}
SPACEPORT_IDENTITY_METHODS = {DIRECT_IAM, WORKLOAD_IDENTITY}
CLOCK_SKEW_MARKERS = ("iat and exp", "reasonable timeframe", "clock skew", "token used too early")


class GuardedAuthorizedSession(NoRedirects, AuthorizedSession):
    """Google's authorized session, following no redirects; the guarded adapter is mounted on it."""


class GcsClient(StorageClient):
    """Object operations under ``Location.prefix`` in the connection's bucket."""

    def __init__(self, connection: CloudConnection) -> None:
        super().__init__(connection)
        endpoint = self.config.get("api_endpoint") or ""
        if connection.method in SPACEPORT_IDENTITY_METHODS:
            check_google_host(endpoint, "api_endpoint")
        self.credentials, self.identity = _credentials(connection)
        self.service = storage.Client(
            project=self.config.get("project_id") or None,
            credentials=self.credentials,
            client_options={"api_endpoint": endpoint} if endpoint else None,
            _http=guard_session(GuardedAuthorizedSession(self.credentials)),
        )

    def authenticate(self) -> str:
        try:
            if not self.credentials.valid:
                self.credentials.refresh(Request())
        except Exception as exc:
            raise self.explain(exc) from exc
        return self.identity

    def list_objects(self, location: Location, prefix: str = "", limit: int | None = None) -> Iterator[StoredObject]:
        page_size = min(limit, PAGE_SIZE) if limit else PAGE_SIZE
        try:
            blobs = self.service.list_blobs(
                location.bucket,
                prefix=location.key(prefix),
                max_results=limit,
                page_size=page_size,
                timeout=TIMEOUT,
                retry=RETRY,
            )
            for listed, blob in enumerate(blobs):
                if limit is not None and listed >= limit:
                    return
                yield _listed(blob)
        except Exception as exc:
            raise self._explain(exc, location, "storage.objects.list") from exc

    def list_level(self, location: Location, prefix: str = "") -> Iterator[StoredObject | Folder]:
        try:
            blobs = self.service.list_blobs(
                location.bucket,
                prefix=location.key(prefix),
                delimiter="/",
                page_size=PAGE_SIZE,
                timeout=TIMEOUT,
                retry=RETRY,
            )
            for page in blobs.pages:
                for name in page.prefixes:
                    yield Folder(name)
                for blob in page:
                    yield _listed(blob)
        except Exception as exc:
            raise self._explain(exc, location, "storage.objects.list") from exc

    def put_object(self, location: Location, key: str, data: bytes) -> StoredObject:
        blob = self.service.bucket(location.bucket).blob(location.key(key))
        try:
            blob.upload_from_string(data, timeout=TIMEOUT)
        except Exception as exc:
            raise self._explain(exc, location, "storage.objects.create") from exc
        return StoredObject(key=blob.name or location.key(key), size=len(data), etag=blob.etag or "")

    def get_object(self, location: Location, key: str) -> bytes:
        blob = self.service.bucket(location.bucket).blob(location.key(key))
        try:
            return bytes(blob.download_as_bytes(timeout=TIMEOUT, retry=RETRY))
        except Exception as exc:
            raise self._explain(exc, location, "storage.objects.get") from exc

    def delete_object(self, location: Location, key: str) -> None:
        """Deleting an object that is already gone succeeds, as it does on every other provider."""
        try:
            self.service.bucket(location.bucket).blob(location.key(key)).delete(timeout=TIMEOUT, retry=RETRY)
        except api_errors.NotFound as exc:
            if not self._bucket_missing(exc, location.bucket):
                return
            raise self._explain(exc, location, "storage.objects.delete") from exc
        except Exception as exc:
            raise self._explain(exc, location, "storage.objects.delete") from exc

    def head_object(self, location: Location, key: str) -> StoredObject | None:
        """None only for a missing object; a missing bucket is an error that names it."""
        blob = self.service.bucket(location.bucket).blob(location.key(key))
        try:
            blob.reload(timeout=TIMEOUT, retry=RETRY)
        except api_errors.NotFound as exc:
            if self._bucket_missing(exc, location.bucket):
                raise self._explain(exc, location, "storage.objects.list") from exc
            return None
        except Exception as exc:
            raise self._explain(exc, location, "storage.objects.get") from exc
        return _described(blob)

    def server_copy(self, copy: Copy) -> StoredObject:
        """Rewrite until Google says it is done: a large object, or one that changes location or
        storage class, takes several calls, each continuing from the previous one's token."""
        source, target = copy.source, copy.target
        source_blob = self.service.bucket(source.bucket).blob(copy.source_name)
        target_blob = self.service.bucket(target.bucket).blob(copy.target_name)
        try:
            token, _, _ = target_blob.rewrite(source_blob, timeout=TIMEOUT, retry=RETRY)
            while token is not None:
                token, _, _ = target_blob.rewrite(source_blob, token=token, timeout=TIMEOUT, retry=RETRY)
        except api_errors.NotFound as exc:
            for location in {target.bucket: target, source.bucket: source}.values():
                if self._bucket_missing(exc, location.bucket):
                    raise self._explain(exc, location, "storage.objects.list") from exc
            raise StorageError("not_found", f"The object to copy '{source_blob.name}' does not exist.") from exc
        except Exception as exc:
            raise self._explain(exc, target, "storage.objects.create") from exc
        copied = self.head_object(target, copy.target_key)
        if copied is None:
            raise copy_vanished(target_blob.name)
        return copied

    def explain(self, exc: Exception) -> StorageError:
        return self._explain(exc, None, "")

    def _explain(self, exc: Exception, location: Location | None, permission: str) -> StorageError:
        if isinstance(exc, StorageError):
            return exc
        refused = found_in(exc)
        if refused is not None:
            return refused
        bucket = location.bucket if location else self.config.get("bucket", "")
        text = str(exc)
        if isinstance(exc, api_errors.NotFound):
            if permission in ("storage.objects.list", "storage.objects.create") or self._bucket_missing(exc, bucket):
                return StorageError(
                    "no_such_bucket",
                    f"The bucket '{bucket}' does not exist.",
                    f"the bucket '{bucket}' does not exist: check its name, or create it in the Google Cloud project",
                )
            return StorageError("not_found", "The object does not exist.")
        if isinstance(exc, api_errors.Forbidden):
            named = PERMISSION.search(text)
            missing = named.group(0) if named else permission or "storage.objects.*"
            return StorageError(
                "access_denied",
                f"Google Cloud Storage refused {self.identity} the permission {missing} on bucket '{bucket}'.",
                f"Grant {self.identity} a role with {missing} on the bucket, such as Storage Object Admin "
                "(roles/storage.objectAdmin); check also that no VPC Service Controls perimeter blocks Spaceport.",
            )
        if isinstance(exc, auth_errors.TransportError | requests.ConnectionError | api_errors.RetryError) or (
            isinstance(exc, auth_errors.RefreshError | auth_errors.OAuthError) and exc.retryable
        ):
            return StorageError(
                "unreachable",
                "Spaceport could not reach Google Cloud (storage or its token endpoint).",
                "Check the API endpoint, DNS and that the firewall lets Spaceport out; "
                "this may also be a passing network failure.",
                transient=True,
            )
        if isinstance(exc, auth_errors.RefreshError | auth_errors.OAuthError | api_errors.Unauthorized):
            if any(marker in text.lower() for marker in CLOCK_SKEW_MARKERS):
                return StorageError(
                    "clock_skew",
                    "Google refused the token request because Spaceport's clock differs too much from Google's.",
                    "Synchronize the clock of the Spaceport server (NTP) and try again.",
                )
            return StorageError("invalid_credentials", f"Google did not accept {self.identity}.", self._refresh_hint())
        if isinstance(exc, auth_errors.DefaultCredentialsError):
            return StorageError(
                "invalid_credentials",
                "Spaceport has no Google identity of its own to act with.",
                "Set SPACEPORT_GCP_CREDENTIALS_FILE, or run Spaceport on Google Cloud with a service account.",
            )
        if isinstance(exc, api_errors.ServiceUnavailable | api_errors.InternalServerError | api_errors.TooManyRequests):
            return StorageError(
                "unavailable",
                f"Google Cloud Storage answered {exc.code}.",
                "Google reports a temporary problem; try again in a few minutes.",
                transient=True,
            )
        return StorageError("error", f"Google Cloud Storage failed: {type(exc).__name__}.")

    def _bucket_missing(self, exc: api_errors.NotFound, bucket: str) -> bool:
        """Whether a 404 on an object means its bucket is gone.

        Google says which in the message; where it does not (the emulator), listing one object
        tells, and needs only storage.objects.list, which Spaceport has anyway.
        """
        text = str(exc).lower()
        if "no such object" in text:
            return False
        if "bucket does not exist" in text:
            return True
        if not bucket:
            return False
        try:
            list(self.service.list_blobs(bucket, max_results=1, timeout=TIMEOUT, retry=RETRY))
        except api_errors.NotFound:
            return True
        except Exception:
            return False
        return False

    def _refresh_hint(self) -> str:
        if self.connection.method == SERVICE_ACCOUNT_KEY:
            return (
                "Was the key deleted or disabled, or the service account disabled or deleted? "
                "Create a new key in IAM & Admin > Service Accounts > Keys and upload it here."
            )
        if self.connection.method == WORKLOAD_IDENTITY:
            return (
                "Check that the workload identity pool and provider exist and are enabled, that the provider "
                "trusts Spaceport's issuer and its attribute condition admits this connection's subject (both on "
                "the setup page), and that the subject may impersonate the service account "
                "(roles/iam.workloadIdentityUser)."
            )
        return (
            "Google refused Spaceport's own credentials, or refused to let Spaceport act as your organization's "
            "service account; the Spaceport operator must check them (roles/iam.serviceAccountTokenCreator)."
        )


def _listed(blob: storage.Blob) -> StoredObject:
    """A blob as a listing describes it."""
    return StoredObject(key=blob.name, size=blob.size or 0, etag=blob.etag or "")


def _described(blob: storage.Blob) -> StoredObject:
    """GCS gives the MD5 in base64; composite objects have only a CRC32C."""
    checksum = ""
    if blob.md5_hash:
        checksum = f"md5:{base64.b64decode(blob.md5_hash).hex()}"
    elif blob.crc32c:
        checksum = f"crc32c:{blob.crc32c}"
    return StoredObject(key=blob.name or "", size=blob.size or 0, etag=blob.etag or "", checksum=checksum)


def _credentials(connection: CloudConnection) -> tuple[Credentials, str]:
    """The one credentials object of a client, and who it acts as (for reports and hints)."""
    method = connection.method
    try:
        return _credentials_for(connection)
    except (ValueError, auth_errors.DefaultCredentialsError) as exc:
        raise StorageError(
            "invalid_config",
            f"Google's library cannot use this {LABELS[method].lower()}: {type(exc).__name__}.",
            "Upload the file Google Cloud generated, unchanged.",
        ) from exc


def _credentials_for(connection: CloudConnection) -> tuple[Credentials, str]:
    method, config, secret = connection.method, dict(connection.config or {}), dict(connection.secret or {})
    if method == SERVICE_ACCOUNT_KEY:
        key = dict(secret["key_json"])
        check_google_host(key.get("token_uri", ""), "token_uri")
        sa = service_account.Credentials.from_service_account_info(key, scopes=SCOPES)
        return sa, f"service account {key['client_email']}"
    if method == WORKLOAD_IDENTITY:
        document = dict(config["credential_config"])
        check_google_host(document.get("token_url", ""), "token_url")
        if document.get("service_account_impersonation_url"):
            check_google_host(document["service_account_impersonation_url"], "service_account_impersonation_url")
        subject_token = connection_token_source(connection, pool_audience(document.get("audience", "")))
        return _customer_pool(document, subject_token)
    if method == DIRECT_IAM:
        email = organization_service_account(connection.organization)
        return impersonated(email, SCOPES), f"service account {email} (Spaceport's account for your organization)"
    raise StorageError("unsupported_method", f"Google Cloud does not support the method '{method}'.")


def pool_audience(audience: str) -> str:
    """The ``aud`` a workload identity pool provider expects by default: its full resource URL.

    A credential configuration names the provider as ``//iam.googleapis.com/projects/...``; an OIDC
    provider created without ``--allowed-audiences`` accepts ``https://iam.googleapis.com/projects/...``.
    """
    return f"https:{audience}" if audience.startswith("//") else audience


class _SpaceportSubjectToken:
    """Supplies the token Spaceport vouches with for this connection to the customer's pool."""

    def __init__(self, source: TokenSource) -> None:
        self.source = source

    def get_subject_token(self, context: Any, request: Any) -> str:
        return self.source()


def _customer_pool(document: dict[str, Any], subject_token: TokenSource) -> tuple[Credentials, str]:
    """A customer's workload identity pool, fed the token Spaceport signs for this connection.

    The file's ``credential_source`` is ignored: it would otherwise let the customer choose a local
    file or URL for Spaceport to read and send on. An AWS-type file is refused, since it would
    trade Spaceport's own AWS identity, which every organization shares.
    """
    if document.get("subject_token_type") == AWS_SUBJECT_TOKEN_TYPE:
        raise StorageError(
            "invalid_config",
            "This credential configuration trades an AWS identity; Spaceport vouches with an OIDC token instead.",
            "Create the pool provider for Spaceport's OIDC issuer, as the setup page shows, and its configuration.",
        )
    from google.auth import identity_pool

    fields = {k: v for k, v in document.items() if k not in ("credential_source", "type", "universe_domain")}
    try:
        credentials: Credentials = identity_pool.Credentials(
            **fields, subject_token_supplier=_SpaceportSubjectToken(subject_token), scopes=SCOPES
        )
    except TypeError as exc:
        raise StorageError(
            "invalid_config",
            "The credential configuration has fields Google's library does not accept.",
            "Upload the file gcloud generated, unchanged.",
        ) from exc
    return credentials, _pool_identity(credentials, document)


def _pool_identity(credentials: Credentials, document: dict[str, Any]) -> str:
    email = getattr(credentials, "service_account_email", None)
    identity = f"service account {email}" if email else f"workload identity {document.get('audience', '')}"
    return f"{identity} (through workload identity federation)"


def build_client(connection: CloudConnection) -> StorageClient:
    return GcsClient(connection)
