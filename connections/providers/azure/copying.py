"""Server-side copies on Azure: the URL Azure reads the source from, and waiting for the copy.

Azure copies a blob asynchronously: Copy Blob returns at once and the copy's status is polled
until it succeeds, fails, or has taken longer than Spaceport waits (then it is aborted).
"""

from __future__ import annotations

import datetime as dt
import time
from contextlib import suppress

from azure.core.exceptions import AzureError
from azure.storage.blob import BlobClient, BlobProperties, BlobSasPermissions, generate_blob_sas

from connections.providers.base import StorageError

# How long a copy may stay pending before Spaceport aborts it, and how often it asks meanwhile.
COPY_WAIT_SECONDS = 600.0
COPY_POLL_FIRST = 0.2
COPY_POLL_LONGEST = 10.0
# Slack on either side of the source SAS's validity, for clocks that disagree.
SAS_SLACK = dt.timedelta(minutes=5)


def readable_url(source_blob: BlobClient, account_name: str, account_key: str | None) -> str:
    """The source's URL as Azure may read it for the copy.

    A service principal's token authorizes a source in the same account, and a connection
    string's SAS is already part of the URL (both come without ``account_key``); an account key
    signs a read-only SAS that expires soon after the longest copy Spaceport waits for.
    """
    if not account_key:
        return str(source_blob.url)
    now = dt.datetime.now(dt.UTC)
    sas = generate_blob_sas(
        account_name=account_name,
        container_name=source_blob.container_name,
        blob_name=source_blob.blob_name,
        account_key=str(account_key),
        permission=BlobSasPermissions(read=True),
        start=now - SAS_SLACK,
        expiry=now + dt.timedelta(seconds=COPY_WAIT_SECONDS) + SAS_SLACK,
    )
    return f"{source_blob.url}?{sas}"


def await_copy(target_blob: BlobClient, copy_id: str) -> BlobProperties:
    """Poll with growing pauses; a copy still pending after COPY_WAIT_SECONDS is aborted."""
    deadline = time.monotonic() + COPY_WAIT_SECONDS
    pause = COPY_POLL_FIRST
    properties = target_blob.get_blob_properties()
    status = properties.copy.status
    while status == "pending":
        if time.monotonic() >= deadline:
            with suppress(AzureError):
                target_blob.abort_copy(copy_id)
            raise StorageError(
                "copy_timeout",
                f"Azure had not finished copying '{target_blob.blob_name}' after {COPY_WAIT_SECONDS:.0f} s.",
                "The copy was aborted; try again later.",
                transient=True,
            )
        time.sleep(min(pause, max(deadline - time.monotonic(), 0)))
        pause = min(pause * 2, COPY_POLL_LONGEST)
        properties = target_blob.get_blob_properties()
        status = properties.copy.status
    if copy_id and properties.copy.id and properties.copy.id != copy_id:
        raise StorageError(
            "copy_failed",
            f"Another copy to '{target_blob.blob_name}' replaced Spaceport's.",
            "Something else writes to this space's container; try again.",
            transient=True,
        )
    if status not in ("success", None):
        said = properties.copy.status_description or "no reason given"
        raise StorageError(
            "copy_failed",
            f"Azure's copy of '{target_blob.blob_name}' ended {status}: {said}"[:500],
            "Try again; if it keeps failing, check the storage account's health.",
            transient=status == "failed",
        )
    return properties
