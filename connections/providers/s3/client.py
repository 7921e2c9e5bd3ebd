"""The S3 API as AWS, IBM Cloud Object Storage and S3-compatible stores all speak it.

The provider modules differ only in how they authenticate; listing, writing, reading,
deleting and turning botocore's errors into advice a person can act on live here once.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from botocore.credentials import ReadOnlyCredentials
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
from django.conf import settings
from s3transfer.exceptions import S3CopyFailedError
from s3transfer.manager import TransferConfig, TransferManager
from s3transfer.subscribers import BaseSubscriber
from s3transfer.utils import ChunksizeAdjuster

from connections.egress import found_in
from connections.providers.base import Copy, Location, StorageClient, StorageError, StoredObject, copy_vanished
from connections.providers.s3.direct import DirectCopy

if TYPE_CHECKING:
    from connections.models import CloudConnection

# Stores give up on a page after 1000 keys whatever is asked; asking for more only hides that.
PAGE_SIZE = 1000

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

# CopyObject copies at most 5 GiB in one request; larger objects are copied part by part.
COPY_OBJECT_LIMIT = 5 * 1024**3
PART_COPY_SIZE = 512 * 1024**2
MIN_PART_SIZE = 5 * 1024**2
PART_COPY_WORKERS = 8
# What UploadPartCopy does not carry over by itself; CreateMultipartUpload must set it.
CARRIED_HEADERS = ("ContentType", "ContentEncoding", "ContentDisposition", "ContentLanguage", "CacheControl")
SINGLE_PART_ETAG = re.compile(r"[0-9a-fA-F]{32}")
# With these, S3's ETag is not the MD5 of the bytes.
OPAQUE_ENCRYPTION = {"aws:kms", "aws:kms:dsse"}
# Direct copies into a bucket that botocore then made where they failed, before they stop for it.
DIRECT_STRIKES = 3


def copy_part_size(size: int, threshold: int) -> int:
    """The part size a multipart copy uses: 512 MiB, smaller when the threshold is lowered (never
    under S3's 5 MiB minimum), and larger when 10,000 parts would not hold the object (doubled
    until they do, as s3transfer adjusts it)."""
    part_size = max(MIN_PART_SIZE, min(PART_COPY_SIZE, threshold))
    return int(ChunksizeAdjuster().adjust_chunksize(part_size, size))


class KnownSource(BaseSubscriber):
    """Tells s3transfer the source's size and ETag from a HEAD already made."""

    def __init__(self, size: int, etag: str) -> None:
        self._size = size
        self._etag = etag

    def on_queued(self, future: Any, **_: Any) -> None:
        future.meta.provide_transfer_size(self._size)
        future.meta.provide_object_etag(self._etag)


def described(name: str, head: dict[str, Any]) -> StoredObject:
    """A single-part ETag is the MD5 of the bytes, unless KMS or customer keys encrypted them."""
    etag = str(head.get("ETag", "")).strip('"')
    digest = (
        SINGLE_PART_ETAG.fullmatch(etag)
        and head.get("ServerSideEncryption") not in OPAQUE_ENCRYPTION
        and not head.get("SSECustomerAlgorithm")
    )
    return StoredObject(
        key=name, size=int(head.get("ContentLength", 0)), etag=etag, checksum=f"md5:{etag.lower()}" if digest else ""
    )


class S3Client(StorageClient):
    """Object operations through a botocore S3 client; subclasses decide how it authenticates.

    ``identity`` names who Spaceport acts as (an access key id, a role, a service ID), for
    hints such as which policy is missing a permission. It never holds a secret. With
    ``credentials`` (SigV4 signing only), a commit's single-request copies skip botocore's
    client once botocore has shown the way to the bucket (``s3.direct``).
    """

    def __init__(
        self,
        connection: CloudConnection,
        s3: Any,
        *,
        endpoint: str,
        identity: str,
        credentials: Callable[[], ReadOnlyCredentials] | None = None,
        verify: bool | str = True,
    ) -> None:
        super().__init__(connection)
        self.s3 = s3
        self.endpoint = endpoint
        self.identity = identity
        self.direct: DirectCopy | None = None
        self._strikes: dict[str, int] = {}
        if credentials is not None:
            config = s3.meta.config
            self.direct = DirectCopy(
                credentials,
                verify=verify,
                connect_timeout=config.connect_timeout,
                read_timeout=config.read_timeout,
                max_connections=config.max_pool_connections,
            )
            s3.meta.events.register("before-send.s3.CopyObject", self.direct.observe)

    def list_objects(self, location: Location, prefix: str = "", limit: int | None = None) -> Iterator[StoredObject]:
        paginator = self.s3.get_paginator("list_objects_v2")
        page_size = min(limit, PAGE_SIZE) if limit else PAGE_SIZE
        pages = paginator.paginate(
            Bucket=location.bucket, Prefix=location.key(prefix), PaginationConfig={"PageSize": page_size}
        )
        if limit is not None and limit <= 0:
            return
        count = 0
        for page in pages:
            for item in page.get("Contents", []):
                yield StoredObject(key=item["Key"], size=int(item["Size"]), etag=item.get("ETag", "").strip('"'))
                count += 1
                if limit is not None and count >= limit:
                    return

    def put_object(self, location: Location, key: str, data: bytes) -> StoredObject:
        response = self.s3.put_object(Bucket=location.bucket, Key=location.key(key), Body=data)
        return StoredObject(key=location.key(key), size=len(data), etag=response.get("ETag", "").strip('"'))

    def get_object(self, location: Location, key: str) -> bytes:
        response = self.s3.get_object(Bucket=location.bucket, Key=location.key(key))
        body = response["Body"]
        try:
            return bytes(body.read())
        finally:
            body.close()

    def delete_object(self, location: Location, key: str) -> None:
        self.s3.delete_object(Bucket=location.bucket, Key=location.key(key))

    def head_object(self, location: Location, key: str) -> StoredObject | None:
        """S3 answers a HEAD for a missing key (or bucket) with a bare 404: both are None here."""
        name = location.key(key)
        try:
            response = self._head(location.bucket, name)
        except (ClientError, BotoCoreError) as exc:
            raise self.explain(exc) from exc
        return None if response is None else described(name, response)

    def server_copy(self, copy: Copy) -> StoredObject:
        """CopyObject up to the threshold, UploadPartCopy above it; the bytes stay in the store.

        When the source cannot be found, CopyObject is sent anyway: the store's answer tells a
        missing key (``not_found``) from a missing bucket (``no_such_bucket``), a HEAD cannot.
        With ``expected`` (the source as listed) under the threshold, one CopyObject does it: the
        copy's ETag, an MD5 the store computed over the copied bytes, describes the copy; only
        when encryption makes the ETag opaque is the copy asked about again, for its size.
        """
        source, target, expected = copy.source, copy.target, copy.expected
        copy_source = {"Bucket": source.bucket, "Key": copy.source_name}
        name = copy.target_name
        threshold = min(settings.SPACEPORT_S3_MULTIPART_COPY_THRESHOLD, COPY_OBJECT_LIMIT)
        if expected is not None and expected.size <= threshold:
            try:
                seen = self._copy_once(copy_source, target.bucket, name)
            except (ClientError, BotoCoreError) as exc:
                raise self.explain(exc) from exc
            seen["ContentLength"] = expected.size
            made = described(name, seen)
            if made.checksum:
                return made
            return described(name, self._head_or_explain(target.bucket, name))
        try:
            original = self._head(source.bucket, copy_source["Key"])
            if original is not None and int(original["ContentLength"]) > threshold:
                self._copy_in_parts(copy_source, target.bucket, name, original, threshold)
            else:
                self.s3.copy_object(Bucket=target.bucket, Key=name, CopySource=copy_source, MetadataDirective="COPY")
            copied = self._head(target.bucket, name)
        except (ClientError, BotoCoreError) as exc:
            raise self.explain(exc) from exc
        if copied is None:
            raise copy_vanished(name)
        return described(name, copied)

    def _copy_once(self, copy_source: dict[str, str], bucket: str, name: str) -> dict[str, Any]:
        """One CopyObject, direct when the bucket's route is known; through botocore otherwise and
        whenever the direct answer is not a clean success. A bucket where botocore keeps
        succeeding after direct copies failed is left to botocore."""
        direct = self.direct if self._strikes.get(bucket, 0) < DIRECT_STRIKES else None
        tried = False
        if direct is not None and direct.knows(bucket):
            copied = direct.copy(copy_source["Bucket"], copy_source["Key"], bucket, name)
            if copied is not None:
                return {
                    "ETag": copied.etag,
                    "ServerSideEncryption": copied.encryption,
                    "SSECustomerAlgorithm": copied.customer_algorithm,
                }
            tried = True
        response = self.s3.copy_object(Bucket=bucket, Key=name, CopySource=copy_source, MetadataDirective="COPY")
        if tried:
            self._strikes[bucket] = self._strikes.get(bucket, 0) + 1
        elif direct is not None:
            direct.learn(bucket, name)
        return {
            "ETag": response.get("CopyObjectResult", {}).get("ETag", ""),
            "ServerSideEncryption": response.get("ServerSideEncryption"),
            "SSECustomerAlgorithm": response.get("SSECustomerAlgorithm"),
        }

    def _head_or_explain(self, bucket: str, name: str) -> dict[str, Any]:
        try:
            found = self._head(bucket, name)
        except (ClientError, BotoCoreError) as exc:
            raise self.explain(exc) from exc
        if found is None:
            raise copy_vanished(name)
        return found

    def delete_objects(self, location: Location, keys: list[str]) -> dict[str, Exception]:
        """DeleteObjects, up to 1,000 keys a request; a key already gone counts as deleted."""
        failures: dict[str, Exception] = {}
        names = {location.key(key): key for key in keys}
        ordered = list(names)
        for first in range(0, len(ordered), 1000):
            chunk = ordered[first : first + 1000]
            try:
                response = self.s3.delete_objects(
                    Bucket=location.bucket,
                    Delete={"Objects": [{"Key": name} for name in chunk], "Quiet": True},
                )
            except (ClientError, BotoCoreError) as exc:
                error = self.explain(exc)
                failures.update({names[name]: error for name in chunk})
                continue
            for problem in response.get("Errors", []):
                if problem.get("Code") != "NoSuchKey":
                    failures[names.get(problem.get("Key", ""), problem.get("Key", ""))] = StorageError(
                        "delete_failed", f"{problem.get('Code')}: {problem.get('Message', '')}".strip()
                    )
        return failures

    def _head(self, bucket: str, name: str) -> dict[str, Any] | None:
        try:
            response: dict[str, Any] = self.s3.head_object(Bucket=bucket, Key=name)
        except ClientError as exc:
            if int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0) == 404:
                return None
            raise
        return response

    def _copy_in_parts(
        self, copy_source: dict[str, str], bucket: str, name: str, original: dict[str, Any], threshold: int
    ) -> None:
        """s3transfer's managed multipart copy, through this client and so the address policy.

        It aborts the upload when a part fails and names the source's ETag in every part, so a
        source overwritten halfway fails the copy instead of producing an object made of two
        versions. The HEAD already made hands it the size and ETag; the type and metadata go
        along as a REPLACE of what that HEAD saw, so it does not ask the source again.
        """
        carried = {header: original[header] for header in CARRIED_HEADERS if original.get(header)}
        extra_args = {"MetadataDirective": "REPLACE", "Metadata": original.get("Metadata") or {}, **carried}
        config = TransferConfig(
            multipart_threshold=threshold + 1,
            multipart_chunksize=max(MIN_PART_SIZE, min(PART_COPY_SIZE, threshold)),
            max_request_concurrency=PART_COPY_WORKERS,
        )
        known = KnownSource(int(original["ContentLength"]), original["ETag"])
        try:
            with TransferManager(self.s3, config) as manager:
                manager.copy(copy_source, bucket, name, extra_args=extra_args, subscribers=[known]).result()
        except KeyError as exc:
            # s3transfer reads the part's ETag (and the upload's id) from the answer by key: a
            # store that answers without them does not copy parts server-side.
            raise StorageError(
                "unsupported",
                f"{self.endpoint} does not copy parts of objects server-side (UploadPartCopy).",
                "Objects above the multipart copy threshold cannot be copied on this store; if "
                "SPACEPORT_S3_MULTIPART_COPY_THRESHOLD was lowered, raise it again (up to 5 GiB).",
            ) from exc
        except S3CopyFailedError as exc:
            # s3transfer words a changed source its own way; the store's answer explains it.
            if isinstance(exc.__context__, ClientError):
                raise exc.__context__ from exc
            raise

    def permission_hint(self, permission: str, resource: str) -> str:
        """How to grant a missing permission; stores with their own IAM say it their way."""
        return f"Allow {permission} on {resource} in the policy of {self.identity}."

    def explain(self, exc: Exception) -> StorageError:
        if isinstance(exc, StorageError):
            return exc
        refused = found_in(exc)
        if refused is not None:
            return refused
        if isinstance(exc, ClientError):
            return self.explain_client_error(exc)
        if isinstance(exc, BotoSSLError):
            return StorageError(
                "tls",
                f"The TLS certificate of {self.endpoint} is not trusted.",
                "Install the store's CA certificate on the Spaceport server, or turn off TLS verification "
                "for a store inside your own network.",
            )
        if isinstance(exc, BotoConnectionError | HTTPClientError):
            return StorageError(
                "unreachable",
                f"Cannot reach {self.endpoint}.",
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
            return StorageError("error", f"The request to {self.endpoint} failed: {exc}"[:500])
        return StorageError("error", f"The request to {self.endpoint} failed ({type(exc).__name__}).")

    def explain_client_error(self, exc: ClientError) -> StorageError:
        """Map the store's error code, with the operation that got it, to a cause and a remedy."""
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
        operation = exc.operation_name
        bucket = str(error.get("BucketName") or self.config.get("bucket", ""))
        said = str(error.get("Message", "")).strip()
        if code == "NoSuchBucket":
            return StorageError(
                "no_such_bucket",
                f"The bucket '{bucket}' does not exist at {self.endpoint}.",
                "The bucket does not exist: create it, or correct the bucket name (and region) of the connection.",
            )
        if code in ("NoSuchKey", "404", "NotFound"):
            return StorageError("not_found", f"The object does not exist in bucket '{bucket}'.", "")
        if code == "SignatureDoesNotMatch":
            return StorageError(
                "invalid_credentials",
                "The store could not verify Spaceport's signature: the secret access key is wrong.",
                f"Enter the secret that belongs to {self.identity} again, copied without spaces.",
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
            return self._denied(operation, bucket)
        if code in THROTTLED or status in (429, 503):
            return StorageError(
                "throttled",
                f"{self.endpoint} is throttling requests ({code or status}).",
                "Retry later; Spaceport backs off on its own.",
                transient=True,
            )
        if code in SERVER_ERRORS or status >= 500:
            return StorageError(
                "server_error",
                f"{self.endpoint} failed with an internal error ({code or status}).",
                "Retry later; if it persists, check the store's health.",
                transient=True,
            )
        return StorageError("error", f"{operation} failed: {code or status}: {said}"[:500], "")

    def _denied(self, operation: str, bucket: str) -> StorageError:
        permission, verb, on_objects = PERMISSIONS.get(operation, ("", "", False))
        if not permission:
            return StorageError(
                "access_denied",
                f"The store refused {operation} to {self.identity}.",
                f"Allow {operation} for {self.identity}.",
            )
        base = self.config.get("prefix", "")
        resource = f"arn:aws:s3:::{bucket}/{base}*" if on_objects else f"arn:aws:s3:::{bucket}"
        return StorageError(
            "access_denied",
            f"Spaceport may not {verb} in bucket '{bucket}': {operation} was refused ({permission} is missing).",
            self.permission_hint(permission, resource),
        )
