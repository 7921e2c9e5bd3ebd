"""What every provider module implements, and the errors they all speak.

A provider knows how to build an authenticated client for each of its methods (refreshing
temporary credentials before they expire), and how to list, write, read and delete objects.
Code that needs "some provider" takes a :class:`StorageClient` and nothing more specific.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from connections.binding import SecretUnbound, require_bound
from connections.errors import StorageError as StorageError
from connections.providers.signing import NotSignable, RequestSigner

if TYPE_CHECKING:
    from connections.models import CloudConnection

VALIDATION_PREFIX = ".spaceport-validation/"


@dataclass(frozen=True)
class Location:
    """Where one space's objects live: a bucket (or Azure container) and a key prefix inside it."""

    bucket: str
    prefix: str = ""

    def key(self, relative: str) -> str:
        return f"{self.prefix}{relative}"


@dataclass(frozen=True)
class StoredObject:
    """An object as a listing or a head request describes it.

    ``checksum`` is a content digest the provider computed over the bytes (``md5:<hex>`` from
    Azure's Content-MD5, GCS's md5Hash or a single-part S3 ETag; ``crc32c:<base64>``), empty
    when the provider gives none; it is what a copy is verified against.
    """

    key: str
    size: int
    etag: str = ""
    checksum: str = ""


@dataclass(frozen=True)
class Folder:
    """What a one-level listing shows of the objects below a delimiter: ``key`` (relative to the
    bucket) is their common prefix, ending in ``/``."""

    key: str


@dataclass(frozen=True)
class Copy:
    """One server-side copy: from where, to where, and the source as a listing described it, if known.

    ``expected`` lets a provider skip asking about the source again, as long as what it returns
    still describes the copy it made.
    """

    source: Location
    source_key: str
    target: Location
    target_key: str
    expected: StoredObject | None = None

    @property
    def source_name(self) -> str:
        return self.source.key(self.source_key)

    @property
    def target_name(self) -> str:
        return self.target.key(self.target_key)


def copy_vanished(name: str) -> StorageError:
    """The copy was made but cannot be found right after: a store that lags, worth one more try."""
    return StorageError("not_found", f"The copy '{name}' disappeared right after it was made.", transient=True)


@dataclass
class Check:
    """One operation of a validation run, as the report shows it."""

    operation: str
    ok: bool
    message: str
    hint: str = ""
    warning: bool = False
    skipped: bool = False
    duration_ms: int = 0
    details: dict[str, str] = field(default_factory=dict)


def refuse_unbound(connection: CloudConnection) -> None:
    """No client is built around a secret bound to another destination than the connection's settings."""
    try:
        require_bound(connection)
    except SecretUnbound as exc:
        raise StorageError(
            "secret_unbound",
            str(exc),
            f"Enter the {' and '.join(exc.labels) or 'secret'} again on the connection's page to use it with "
            "these settings.",
        ) from None


class StorageClient(ABC):
    """Object operations on one connection's storage."""

    # Where a space has storage of its own (an Azure container): what the validation report calls it,
    # where it is created by hand, and what lets Spaceport create it itself.
    space_storage_name = "storage"
    space_storage_place = "the storage"
    space_storage_grant = ""

    def __init__(self, connection: CloudConnection) -> None:
        refuse_unbound(connection)
        self.connection = connection
        self.config = dict(connection.config)

    @abstractmethod
    def authenticate(self) -> str:
        """Obtain (or refresh) credentials; return who Spaceport is acting as, for the report."""

    @abstractmethod
    def list_objects(self, location: Location, prefix: str = "", limit: int | None = None) -> Iterator[StoredObject]:
        """Objects under ``location.prefix + prefix``, keys relative to the bucket."""

    def list_level(self, location: Location, prefix: str = "") -> Iterator[StoredObject | Folder]:
        """The objects directly under ``location.prefix + prefix`` and a :class:`Folder` for each
        group of keys that continue past the next ``/``, keys relative to the bucket. Stores that
        cannot list by delimiter raise NotImplementedError when called."""
        raise NotImplementedError

    @abstractmethod
    def put_object(self, location: Location, key: str, data: bytes) -> StoredObject:
        """Write ``data`` at ``location.prefix + key``."""

    @abstractmethod
    def get_object(self, location: Location, key: str) -> bytes:
        """Read the object at ``location.prefix + key``."""

    @abstractmethod
    def delete_object(self, location: Location, key: str) -> None:
        """Delete the object at ``location.prefix + key``."""

    def head_object(self, location: Location, key: str) -> StoredObject | None:
        """The object at ``location.prefix + key`` with its size and checksum, or None if absent."""
        raise NotImplementedError

    def copy_object(
        self,
        source: Location,
        source_key: str,
        target: Location,
        target_key: str,
        *,
        expected: StoredObject | None = None,
    ) -> StoredObject:
        """Copy server-side within this connection's storage (no bytes through Spaceport) and wait
        until the copy is complete; returns the copy as :meth:`head_object` describes it.

        Large objects use the provider's own mechanism: S3 multipart UploadPartCopy above 5 GiB,
        Azure copy-from-URL with status polling, GCS rewrite until done. ``expected`` is the
        source as a listing described it; a provider may use it instead of asking again, as long
        as what it returns still describes the copy it made.
        """
        return self.server_copy(Copy(source, source_key, target, target_key, expected))

    def server_copy(self, copy: Copy) -> StoredObject:
        """The provider's own way of making :meth:`copy_object`'s copy."""
        raise NotImplementedError

    def delete_objects(self, location: Location, keys: list[str]) -> dict[str, Exception]:
        """Delete several objects; returns the keys that could not be deleted with why.

        Keys already gone count as deleted. Providers with a batch call (S3 DeleteObjects)
        override this; the default deletes one by one.
        """
        failures: dict[str, Exception] = {}
        for key in keys:
            try:
                self.delete_object(location, key)
            except Exception as exc:
                failures[key] = exc
        return failures

    def prepare_space(self, location: Location) -> bool:
        """Create what a space needs in the storage before anything is written to it; True if it was created.

        Prefix-based stores need nothing: a prefix exists as soon as an object is written under it.
        Raises :class:`StorageError` when the storage is missing and cannot be created.
        """
        return False

    def storage_command(self, location: Location) -> str:
        """The command a customer runs to create the space's storage by hand; empty where none is needed."""
        return ""

    def revoke_issued(self, location: Location) -> int | None:
        """Revoke every credential Spaceport issued for ``location``, where the cloud allows it.

        Returns how many grants of access were withdrawn, or None where the cloud has no way to do it
        (such credentials stay valid until they expire).
        """
        return None

    def request_signer(self) -> RequestSigner:
        """What signs S3 requests sent to this storage on the connection's behalf (the gateway's).

        Stores that do not speak S3 raise :class:`NotSignable`; S3 stores answer one signer per
        client, so it lives exactly as long as the client and its credentials.
        """
        raise NotSignable(f"{type(self).__name__} does not take signed S3 requests.")

    def extra_checks(self) -> list[Check]:
        """Provider-specific checks after the basic ones (the ExternalId check, for instance)."""
        return []

    @abstractmethod
    def explain(self, exc: Exception) -> StorageError:
        """Turn an SDK exception into a :class:`StorageError` with an actionable hint."""
