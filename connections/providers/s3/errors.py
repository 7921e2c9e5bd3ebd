"""What a store's refusals and failures mean, said so that a person can act on them.

Botocore's exceptions and the store's error codes become a :class:`StorageError` that names the
store, the identity Spaceport acts as and the permission missing, never a secret.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    HTTPClientError,
    NoCredentialsError,
    ParamValidationError,
    PartialCredentialsError,
)
from botocore.exceptions import (
    ConnectionError as BotoConnectionError,
)
from botocore.exceptions import (
    SSLError as BotoSSLError,
)

from connections.egress import found_in
from connections.providers.base import StorageError

THROTTLED = {
    "SlowDown",
    "Throttling",
    "ThrottlingException",
    "RequestLimitExceeded",
    "TooManyRequestsException",
    "RequestThrottled",
    "ServiceUnavailable",
}
SERVER_ERRORS = {"InternalError", "InternalFailure", "RequestTimeout", "ServiceFailure"}
UNKNOWN_KEY = {"InvalidAccessKeyId", "InvalidClientTokenId", "UnrecognizedClientException"}
EXPIRED = {"ExpiredToken", "ExpiredTokenException", "TokenRefreshRequired"}
WRONG_REGION = {"AuthorizationHeaderMalformed", "PermanentRedirect", "IllegalLocationConstraintException"}
DENIED = {"AccessDenied", "AllAccessDisabled", "Forbidden", "403", "AccountProblem"}

# What a refused operation needs, and how to say it: (permission, verb, applies to objects).
PERMISSIONS: dict[str, tuple[str, str, bool]] = {
    "ListObjectsV2": ("s3:ListBucket", "list objects", False),
    "ListObjects": ("s3:ListBucket", "list objects", False),
    "PutObject": ("s3:PutObject", "write objects", True),
    "GetObject": ("s3:GetObject", "read objects", True),
    "HeadObject": ("s3:GetObject", "read objects", True),
    "DeleteObject": ("s3:DeleteObject", "delete objects", True),
    "CopyObject": ("s3:GetObject and s3:PutObject", "copy objects", True),
    "UploadPartCopy": ("s3:GetObject and s3:PutObject", "copy objects", True),
    "CreateMultipartUpload": ("s3:PutObject", "write objects", True),
    "CompleteMultipartUpload": ("s3:PutObject", "write objects", True),
}


@dataclass(frozen=True)
class Store:
    """What an explanation may name: the store's endpoint, whom Spaceport acts as there (never a
    secret), the connection's bucket and prefix, and how that store grants a missing permission."""

    endpoint: str
    identity: str
    bucket: str
    prefix: str
    permission_hint: Callable[[str, str], str]


def explained(exc: Exception, store: Store) -> StorageError:
    """Turn a botocore exception into a :class:`StorageError` with a cause and a remedy."""
    if isinstance(exc, StorageError):
        return exc
    refused = found_in(exc)
    if refused is not None:
        return refused
    if isinstance(exc, ClientError):
        return explained_client_error(exc, store)
    if isinstance(exc, BotoSSLError):
        return StorageError(
            "tls",
            f"The TLS certificate of {store.endpoint} is not trusted.",
            "Install the store's CA certificate on the Spaceport server, or turn off TLS verification "
            "for a store inside your own network.",
        )
    if isinstance(exc, BotoConnectionError | HTTPClientError):
        return StorageError(
            "unreachable",
            f"Cannot reach {store.endpoint}.",
            "Check the endpoint URL, and that the Spaceport server's network (firewall, proxy, DNS) "
            "lets it reach the store.",
            transient=True,
        )
    if isinstance(exc, NoCredentialsError | PartialCredentialsError):
        return StorageError(
            "no_credentials", "Spaceport found no credentials to sign requests with.", "Enter the keys again."
        )
    if isinstance(exc, ParamValidationError):
        return StorageError("invalid_request", "The store would not accept this request.", str(exc)[:300])
    if isinstance(exc, BotoCoreError):
        return StorageError("error", f"The request to {store.endpoint} failed: {exc}"[:500])
    return StorageError("error", f"The request to {store.endpoint} failed ({type(exc).__name__}).")


def explained_client_error(exc: ClientError, store: Store) -> StorageError:
    """Map the store's error code, with the operation that got it, to a cause and a remedy."""
    error = exc.response.get("Error", {})
    code = str(error.get("Code", ""))
    status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
    operation = exc.operation_name
    bucket = str(error.get("BucketName") or store.bucket)
    said = str(error.get("Message", "")).strip()
    if code == "NoSuchBucket":
        return StorageError(
            "no_such_bucket",
            f"The bucket '{bucket}' does not exist at {store.endpoint}.",
            "The bucket does not exist: create it, or correct the bucket name (and region) of the connection.",
        )
    if code in ("NoSuchKey", "404", "NotFound"):
        return StorageError("not_found", f"The object does not exist in bucket '{bucket}'.", "")
    if code == "SignatureDoesNotMatch":
        return StorageError(
            "invalid_credentials",
            "The store could not verify Spaceport's signature: the secret access key is wrong.",
            f"Enter the secret that belongs to {store.identity} again, copied without spaces.",
        )
    if code in UNKNOWN_KEY:
        return StorageError(
            "invalid_credentials",
            "The store does not know this access key id: the access key is wrong or was deleted.",
            "Check the access key id, or create a new key pair and enter it here.",
        )
    if code in EXPIRED:
        return StorageError(
            "expired_credentials",
            "The temporary credentials expired before the request reached the store.",
            "Retry; Spaceport fetches new credentials. If this persists, check the server's clock.",
            transient=True,
        )
    if code == "RequestTimeTooSkewed":
        return StorageError(
            "clock_skew",
            "The store refused the request because the clock is skewed.",
            "The Spaceport server's clock differs from the store's by more than 15 minutes: synchronize it (NTP).",
        )
    if code in WRONG_REGION or status == 301:
        return StorageError(
            "wrong_region",
            f"The bucket '{bucket}' is not in the region the connection names.",
            f"Set the connection's region to the bucket's region. The store said: {said}"[:300],
        )
    if code in DENIED or status == 403:
        return _denied(store, operation, bucket)
    if code in THROTTLED or status in (429, 503):
        return StorageError(
            "throttled",
            f"{store.endpoint} is throttling requests ({code or status}).",
            "Retry later; Spaceport backs off on its own.",
            transient=True,
        )
    if code in SERVER_ERRORS or status >= 500:
        return StorageError(
            "server_error",
            f"{store.endpoint} failed with an internal error ({code or status}).",
            "Retry later; if it persists, check the store's health.",
            transient=True,
        )
    return StorageError("error", f"{operation} failed: {code or status}: {said}"[:500], "")


def _denied(store: Store, operation: str, bucket: str) -> StorageError:
    permission, verb, on_objects = PERMISSIONS.get(operation, ("", "", False))
    if not permission:
        return StorageError(
            "access_denied",
            f"The store refused {operation} to {store.identity}.",
            f"Allow {operation} for {store.identity}.",
        )
    base = store.prefix
    resource = f"arn:aws:s3:::{bucket}/{base}*" if on_objects else f"arn:aws:s3:::{bucket}"
    return StorageError(
        "access_denied",
        f"Spaceport may not {verb} in bucket '{bucket}': {operation} was refused ({permission} is missing).",
        store.permission_hint(permission, resource),
    )
