"""The S3 API as AWS, IBM Cloud Object Storage and S3-compatible stores all speak it.

The provider modules differ only in how they authenticate; listing, writing, reading, copying
and deleting live here once. What the store's errors mean is in ``s3.errors``, copying part by
part in ``s3.multipart``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from botocore.credentials import ReadOnlyCredentials
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
)
from django.conf import settings

from connections.providers.base import (
    Copy,
    Folder,
    Location,
    StorageClient,
    StorageError,
    StoredObject,
    copy_vanished,
)
from connections.providers.s3.direct import DirectCopy
from connections.providers.s3.errors import Store, explained
from connections.providers.s3.multipart import COPY_OBJECT_LIMIT, copy_in_parts
from connections.providers.s3.signing import SigV4Signer
from connections.providers.signing import NotSignable, RequestSigner

if TYPE_CHECKING:
    from connections.models import CloudConnection

# Stores give up on a page after 1000 keys whatever is asked; asking for more only hides that.
PAGE_SIZE = 1000

SINGLE_PART_ETAG = re.compile(r"[0-9a-fA-F]{32}")
# With these, S3's ETag is not the MD5 of the bytes.
OPAQUE_ENCRYPTION = {"aws:kms", "aws:kms:dsse"}
# Direct copies into a bucket that botocore then made where they failed, before they stop for it.
DIRECT_STRIKES = 3


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


def _listed(item: dict[str, Any]) -> StoredObject:
    """An object as a listing page describes it (its timestamp is not read)."""
    return StoredObject(key=item["Key"], size=int(item["Size"]), etag=item.get("ETag", "").strip('"'))


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
        self._credentials = credentials
        self._signer: RequestSigner | None = None
        self.verify_tls = verify is not False
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

    def request_signer(self) -> RequestSigner:
        """SigV4 at the client's endpoint and region, with the credentials the client signs with."""
        if self._signer is None:
            self._signer = self.make_signer()
        return self._signer

    def make_signer(self) -> RequestSigner:
        if self._credentials is None:
            raise NotSignable(f"{type(self).__name__} has no credentials to sign requests with.")
        meta = self.s3.meta
        region = str(meta.region_name or "us-east-1")
        return SigV4Signer(str(meta.endpoint_url), region, self._credentials, self.explain, verify_tls=self.verify_tls)

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
                yield _listed(item)
                count += 1
                if limit is not None and count >= limit:
                    return

    def list_level(self, location: Location, prefix: str = "") -> Iterator[StoredObject | Folder]:
        paginator = self.s3.get_paginator("list_objects_v2")
        pages = paginator.paginate(
            Bucket=location.bucket, Prefix=location.key(prefix), Delimiter="/", PaginationConfig={"PageSize": PAGE_SIZE}
        )
        for page in pages:
            for common in page.get("CommonPrefixes", []):
                yield Folder(common["Prefix"])
            for item in page.get("Contents", []):
                yield _listed(item)

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
                copy_in_parts(self.s3, self.endpoint, copy_source, target.bucket, name, original, threshold)
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

    def permission_hint(self, permission: str, resource: str) -> str:
        """How to grant a missing permission; stores with their own IAM say it their way."""
        return f"Allow {permission} on {resource} in the policy of {self.identity}."

    @property
    def store(self) -> Store:
        """The store as an explanation names it."""
        return Store(
            endpoint=self.endpoint,
            identity=self.identity,
            bucket=str(self.config.get("bucket", "")),
            prefix=str(self.config.get("prefix", "")),
            permission_hint=self.permission_hint,
        )

    def explain(self, exc: Exception) -> StorageError:
        return explained(exc, self.store)
