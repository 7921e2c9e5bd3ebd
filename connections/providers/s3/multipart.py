"""Copying an object too large for one CopyObject: part by part, server-side (UploadPartCopy).

s3transfer manages the parts; Spaceport chooses their size, hands over what a HEAD already saw
of the source, and says what a store that cannot copy parts should do instead.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError
from s3transfer.exceptions import S3CopyFailedError
from s3transfer.manager import TransferConfig, TransferManager
from s3transfer.subscribers import BaseSubscriber
from s3transfer.utils import ChunksizeAdjuster

from connections.providers.base import StorageError

# CopyObject copies at most 5 GiB in one request; larger objects are copied part by part.
COPY_OBJECT_LIMIT = 5 * 1024**3
PART_COPY_SIZE = 512 * 1024**2
MIN_PART_SIZE = 5 * 1024**2
PART_COPY_WORKERS = 8
# What UploadPartCopy does not carry over by itself; CreateMultipartUpload must set it.
CARRIED_HEADERS = ("ContentType", "ContentEncoding", "ContentDisposition", "ContentLanguage", "CacheControl")


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


def copy_in_parts(
    s3: Any,
    endpoint: str,
    copy_source: dict[str, str],
    bucket: str,
    name: str,
    original: dict[str, Any],
    threshold: int,
) -> None:
    """s3transfer's managed multipart copy, through the connection's botocore client (``s3``) and so
    the address policy; ``endpoint`` names the store when it cannot copy parts.

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
        with TransferManager(s3, config) as manager:
            manager.copy(copy_source, bucket, name, extra_args=extra_args, subscribers=[known]).result()
    except KeyError as exc:
        # s3transfer reads the part's ETag (and the upload's id) from the answer by key: a
        # store that answers without them does not copy parts server-side.
        raise StorageError(
            "unsupported",
            f"{endpoint} does not copy parts of objects server-side (UploadPartCopy).",
            "Objects above the multipart copy threshold cannot be copied on this store; if "
            "SPACEPORT_S3_MULTIPART_COPY_THRESHOLD was lowered, raise it again (up to 5 GiB).",
        ) from exc
    except S3CopyFailedError as exc:
        # s3transfer words a changed source its own way; the store's answer explains it.
        if isinstance(exc.__context__, ClientError):
            raise exc.__context__ from exc
        raise
