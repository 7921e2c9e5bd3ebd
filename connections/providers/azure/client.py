"""Azure Blob Storage: one container per space, reached by connection string or service principal."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from azure.core.credentials import TokenCredential
from azure.core.exceptions import (
    AzureError,
    ResourceNotFoundError,
)
from azure.identity import AzureAuthorityHosts
from azure.storage.blob import (
    BlobPrefix,
    BlobProperties,
    BlobServiceClient,
    ExponentialRetry,
)

from connections.providers.azure.copying import await_copy, readable_url
from connections.providers.azure.errors import Signer, error_code, explained, network_failure
from connections.providers.azure.methods import CONNECTION_STRING, SERVICE_PRINCIPAL
from connections.providers.azure.policies import ContainerPolicies, create_container
from connections.providers.azure.signin import TIMEOUTS, endpoint_host, service_principal_credential, transport
from connections.providers.base import Copy, Folder, Location, StorageClient, StorageError, StoredObject

if TYPE_CHECKING:
    from connections.models import CloudConnection

STORAGE_SCOPE = "https://storage.azure.com/.default"
PAGE_SIZE = 1000


class AzureBlobClient(StorageClient):
    """Blob operations on the container named by ``Location.bucket``.

    The service principal's credential object lives as long as this client, so azure-identity's
    token cache is reused and tokens are renewed shortly before they expire.
    """

    space_storage_name = "container"
    space_storage_place = "the storage account"
    space_storage_grant = (
        "Or let the connection create containers (Storage Blob Data Contributor on the account) and validate again."
    )

    def __init__(self, connection: CloudConnection) -> None:
        super().__init__(connection)
        secret = dict(connection.secret or {})
        self.credential: TokenCredential | None = None
        self.uses_sas = "sharedaccesssignature=" in str(secret.get("connection_string", "")).lower()
        if connection.method == CONNECTION_STRING:
            self.service = BlobServiceClient.from_connection_string(secret["connection_string"], **_options())
        elif connection.method == SERVICE_PRINCIPAL:
            self.credential = service_principal_credential(self.config, secret)
            self.service = BlobServiceClient(self.config["account_url"], credential=self.credential, **_options())
        else:
            raise StorageError("unsupported_method", f"Azure does not support the method '{connection.method}'.")

    def authenticate(self) -> str:
        account = self.service.account_name or urlsplit(self.service.url).hostname or "the storage account"
        if self.credential is None:
            return f"the account key of storage account '{account}'"
        self._token()
        return (
            f"service principal {self.config['client_id']} of tenant {self.config['tenant_id']} "
            f"on storage account '{account}'"
        )

    def list_objects(self, location: Location, prefix: str = "", limit: int | None = None) -> Iterator[StoredObject]:
        self._token()
        container = self.service.get_container_client(location.bucket)
        page_size = min(limit, PAGE_SIZE) if limit else PAGE_SIZE
        listed = 0
        try:
            pages = container.list_blobs(name_starts_with=location.key(prefix), results_per_page=page_size).by_page()
            for page in pages:
                for blob in page:
                    if limit is not None and listed >= limit:
                        return
                    listed += 1
                    yield _listed(blob)
        except AzureError as exc:
            raise self.explain(exc, container=location.bucket) from exc

    def list_level(self, location: Location, prefix: str = "") -> Iterator[StoredObject | Folder]:
        self._token()
        container = self.service.get_container_client(location.bucket)
        try:
            for entry in container.walk_blobs(name_starts_with=location.key(prefix), delimiter="/"):
                if isinstance(entry, BlobPrefix):
                    yield Folder(entry.name)
                else:
                    yield _listed(entry)
        except AzureError as exc:
            raise self.explain(exc, container=location.bucket) from exc

    def put_object(self, location: Location, key: str, data: bytes) -> StoredObject:
        name = location.key(key)
        self._token()
        try:
            result = self.service.get_blob_client(location.bucket, name).upload_blob(data, overwrite=True)
        except AzureError as exc:
            raise self.explain(exc, container=location.bucket) from exc
        return StoredObject(key=name, size=len(data), etag=_etag(result.get("etag")))

    def get_object(self, location: Location, key: str) -> bytes:
        self._token()
        try:
            return self.service.get_blob_client(location.bucket, location.key(key)).download_blob().readall()
        except AzureError as exc:
            raise self.explain(exc, container=location.bucket) from exc

    def delete_object(self, location: Location, key: str) -> None:
        """Deleting a blob that is already gone succeeds, as it does on every other provider."""
        self._token()
        try:
            self.service.get_blob_client(location.bucket, location.key(key)).delete_blob()
        except ResourceNotFoundError as exc:
            if error_code(exc) == "BlobNotFound":
                return
            raise self.explain(exc, container=location.bucket) from exc
        except AzureError as exc:
            raise self.explain(exc, container=location.bucket) from exc

    def head_object(self, location: Location, key: str) -> StoredObject | None:
        """None only for a missing blob; a missing container is an error that names it."""
        name = location.key(key)
        self._token()
        try:
            properties = self.service.get_blob_client(location.bucket, name).get_blob_properties()
        except ResourceNotFoundError as exc:
            if error_code(exc) == "BlobNotFound":
                return None
            raise self.explain(exc, container=location.bucket) from exc
        except AzureError as exc:
            raise self.explain(exc, container=location.bucket) from exc
        return _described(name, properties)

    def server_copy(self, copy: Copy) -> StoredObject:
        """Copy Blob from the source's URL, then wait for Azure to report the copy done.

        Azure copies the blob's properties with it, Content-MD5 included; the copy is checked
        against the source's size and MD5 before it counts as done.
        """
        original = self.head_object(copy.source, copy.source_key)
        if original is None:
            raise StorageError("not_found", f"The object to copy '{copy.source_name}' does not exist.")
        source_blob = self.service.get_blob_client(copy.source.bucket, copy.source_name)
        target_blob = self.service.get_blob_client(copy.target.bucket, copy.target_name)
        self._token()
        try:
            account_key = getattr(self.service.credential, "account_key", None) if self.signs_with_account_key else None
            started = target_blob.start_copy_from_url(readable_url(source_blob, self.account_name, account_key))
            properties = await_copy(target_blob, str(started.get("copy_id") or ""))
        except AzureError as exc:
            raise self.explain(exc, container=copy.target.bucket) from exc
        copied = _described(target_blob.blob_name, properties)
        if copied.size != original.size or copied.checksum != original.checksum:
            raise StorageError(
                "copy_mismatch",
                f"The copy '{copied.key}' does not match its source: {copied.size} bytes and "
                f"{copied.checksum or 'no MD5'}, against {original.size} bytes and {original.checksum or 'no MD5'}.",
                "The source may have changed during the copy; try again.",
                transient=True,
            )
        return copied

    @property
    def account_name(self) -> str:
        return str(self.service.account_name or urlsplit(self.service.url).hostname or "")

    @property
    def signs_with_account_key(self) -> bool:
        """Whether SAS tokens are signed with the account key, and so can be issued under stored access policies."""
        return (
            self.credential is None
            and not self.uses_sas
            and bool(getattr(self.service.credential, "account_key", None))
        )

    def storage_command(self, location: Location) -> str:
        return (
            f"az storage container create --account-name {self.account_name} --name {location.bucket} --auth-mode login"
        )

    def container_hint(self, container: str) -> str:
        """What to do about a missing container: create it by hand, or let Spaceport create it."""
        if not container:
            return "Create the space's container in the storage account, then try again."
        return (
            f"Create it in the storage account: az storage container create --account-name {self.account_name} "
            f"--name {container} --auth-mode login (or in the portal: Storage account > Containers > + Container). "
            "Spaceport creates containers itself when its connection may: validate the connection again after "
            "granting that."
        )

    def prepare_space(self, location: Location) -> bool:
        """A space on Azure is a container of its own, created with the space together with the stored
        access policies its tokens will be issued under."""
        self._token()
        created = create_container(self, location.bucket)
        if self.signs_with_account_key:
            try:
                ContainerPolicies(self, location.bucket).ensure_all()
            except StorageError as exc:
                if exc.code != "too_many_policies":
                    raise
                # The container is there; a token asked for later makes its own policy or names the limit.
        return created

    def revoke_issued(self, location: Location) -> int | None:
        """Remove the stored access policies the space's SAS tokens name; a user-delegation SAS cannot be recalled."""
        if not self.signs_with_account_key:
            return None
        return ContainerPolicies(self, location.bucket).revoke()

    def _token(self) -> None:
        """Fetch (or take from azure-identity's cache) the token before a storage call.

        Inside the blob pipeline a refused client secret would be retried with backoff like a
        network error; asking first fails at once and names the app registration.
        """
        if self.credential is None:
            return
        try:
            self.credential.get_token(STORAGE_SCOPE)
        except AzureError as exc:
            if not network_failure(exc):
                raise self.explain(exc) from exc
            authority = self.config.get("authority_host") or f"https://{AzureAuthorityHosts.AZURE_PUBLIC_CLOUD}"
            raise StorageError(
                "unreachable",
                f"Spaceport could not reach Entra ID at {endpoint_host(authority)}.",
                "Check the authority host, DNS and that the firewall lets Spaceport out; "
                "this may also be a passing network failure.",
                transient=True,
            ) from exc

    @property
    def signer(self) -> Signer:
        """The connection's credential as an error message may name it."""
        return Signer(
            service_principal=self.credential is not None,
            uses_sas=self.uses_sas,
            tenant_id=str(self.config.get("tenant_id", "")),
            client_id=str(self.config.get("client_id", "")),
        )

    def explain(self, exc: Exception, container: str = "") -> StorageError:
        return explained(
            exc,
            self.signer,
            container=container,
            container_hint=self.container_hint(container),
            service_url=self.service.url,
        )


def _options() -> dict[str, Any]:
    """Short SDK retries (about 5 s), so a failing check answers quickly; callers retry transient errors.

    Requests leave through the outbound address policy's transport, and redirects are not
    followed: a store's answer must not choose where Spaceport connects next.
    """
    return {
        "retry_policy": ExponentialRetry(initial_backoff=1, increment_base=1, retry_total=2, random_jitter_range=1),
        "transport": transport(),
        "permit_redirects": False,
        **TIMEOUTS,
    }


def _described(name: str, properties: BlobProperties) -> StoredObject:
    digest = properties.content_settings.content_md5
    return StoredObject(
        key=name,
        size=properties.size or 0,
        etag=_etag(properties.etag),
        checksum=f"md5:{bytes(digest).hex()}" if digest else "",
    )


def _etag(value: Any) -> str:
    return str(value or "").strip('"')


def _listed(blob: BlobProperties) -> StoredObject:
    """A blob as a listing describes it."""
    return StoredObject(key=blob.name, size=blob.size or 0, etag=_etag(blob.etag))


def build_client(connection: CloudConnection) -> StorageClient:
    return AzureBlobClient(connection)
