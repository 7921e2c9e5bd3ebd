"""Azure Blob Storage: one container per space, reached by connection string or service principal."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from contextlib import suppress
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from azure.core.credentials import TokenCredential
from azure.core.exceptions import (
    AzureError,
    ClientAuthenticationError,
    HttpResponseError,
    ResourceNotFoundError,
    ServiceRequestError,
    ServiceResponseError,
)
from azure.identity import AzureAuthorityHosts
from azure.storage.blob import (
    BlobClient,
    BlobProperties,
    BlobSasPermissions,
    BlobServiceClient,
    ExponentialRetry,
    generate_blob_sas,
)

from connections.egress import found_in
from connections.providers.azure.methods import CONNECTION_STRING, SERVICE_PRINCIPAL
from connections.providers.azure.policies import ContainerPolicies, create_container
from connections.providers.azure.signin import TIMEOUTS, endpoint_host, service_principal_credential, transport
from connections.providers.base import Copy, Location, StorageClient, StorageError, StoredObject

if TYPE_CHECKING:
    from connections.models import CloudConnection

STORAGE_SCOPE = "https://storage.azure.com/.default"
PAGE_SIZE = 1000

NETWORK_MARKERS = ("failed to establish a new connection", "name or service not known", "connection refused")
CLOCK_SKEW_MARKERS = ("request date header too old", "time skew", "clock skew", "aadsts700024")
# How long a copy may stay pending before Spaceport aborts it, and how often it asks meanwhile.
COPY_WAIT_SECONDS = 600.0
COPY_POLL_FIRST = 0.2
COPY_POLL_LONGEST = 10.0
# Slack on either side of the source SAS's validity, for clocks that disagree.
SAS_SLACK = dt.timedelta(minutes=5)


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
                    yield StoredObject(key=blob.name, size=blob.size or 0, etag=_etag(blob.etag))
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
            if _error_code(exc) == "BlobNotFound":
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
            if _error_code(exc) == "BlobNotFound":
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
            started = target_blob.start_copy_from_url(self._readable_url(source_blob))
            properties = self._await_copy(target_blob, str(started.get("copy_id") or ""))
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

    def _readable_url(self, source_blob: BlobClient) -> str:
        """The source's URL as Azure may read it for the copy.

        A service principal's token authorizes a source in the same account, and a connection
        string's SAS is already part of the URL; an account key signs a read-only SAS that
        expires soon after the longest copy Spaceport waits for.
        """
        account_key = getattr(self.service.credential, "account_key", None)
        if self.credential is not None or self.uses_sas or not account_key:
            return str(source_blob.url)
        now = dt.datetime.now(dt.UTC)
        sas = generate_blob_sas(
            account_name=str(self.service.account_name),
            container_name=source_blob.container_name,
            blob_name=source_blob.blob_name,
            account_key=str(account_key),
            permission=BlobSasPermissions(read=True),
            start=now - SAS_SLACK,
            expiry=now + dt.timedelta(seconds=COPY_WAIT_SECONDS) + SAS_SLACK,
        )
        return f"{source_blob.url}?{sas}"

    def _await_copy(self, target_blob: BlobClient, copy_id: str) -> BlobProperties:
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
            if not _network_failure(exc):
                raise self.explain(exc) from exc
            authority = self.config.get("authority_host") or f"https://{AzureAuthorityHosts.AZURE_PUBLIC_CLOUD}"
            raise StorageError(
                "unreachable",
                f"Spaceport could not reach Entra ID at {endpoint_host(authority)}.",
                "Check the authority host, DNS and that the firewall lets Spaceport out; "
                "this may also be a passing network failure.",
                transient=True,
            ) from exc

    def explain(self, exc: Exception, container: str = "") -> StorageError:
        if isinstance(exc, StorageError):
            return exc
        refused = found_in(exc)
        if refused is not None:
            return refused
        code = _error_code(exc)
        text = str(exc).lower()
        named = f"'{container}'" if container else "of this space"
        if code == "ContainerNotFound":
            return StorageError(
                "no_such_container",
                f"The container {named} does not exist.",
                self.container_hint(container),
            )
        if code == "BlobNotFound" or (isinstance(exc, ResourceNotFoundError) and code is None):
            return StorageError("not_found", "The object does not exist.")
        if code == "CannotVerifyCopySource" and isinstance(exc, ResourceNotFoundError):
            return StorageError("not_found", "The object to copy does not exist.")
        if any(marker in text for marker in CLOCK_SKEW_MARKERS):
            return StorageError(
                "clock_skew",
                "Azure refused the request because Spaceport's clock differs too much from Azure's.",
                "Synchronize the clock of the Spaceport server (NTP) and try again.",
            )
        if isinstance(exc, ClientAuthenticationError) and code is None:
            return self._identity_error(exc)
        if code in ("AuthenticationFailed", "InvalidAuthenticationInfo", "NoAuthenticationInformation"):
            return self._refused_credentials()
        if code == "AuthorizationFailure" and self.credential is None and not self.uses_sas:
            return self._refused_credentials(network_rules=True)
        if code in ("AuthorizationPermissionMismatch", "AuthorizationFailure", "InsufficientAccountPermissions") or (
            isinstance(exc, HttpResponseError) and exc.status_code == 403
        ):
            return self._access_denied(code)
        if isinstance(exc, ServiceRequestError | ServiceResponseError):
            return StorageError(
                "unreachable",
                f"Spaceport could not reach Azure Storage at {endpoint_host(self.service.url)}.",
                "Check the account URL or BlobEndpoint, DNS, and that the firewall lets Spaceport out; "
                "this may also be a passing network failure.",
                transient=True,
            )
        if isinstance(exc, HttpResponseError) and exc.status_code in (500, 502, 503, 504):
            return StorageError(
                "unavailable",
                f"Azure Storage answered {exc.status_code}{f' ({code})' if code else ''}.",
                "Azure reports a temporary problem; try again in a few minutes.",
                transient=True,
            )
        return StorageError("error", f"Azure Storage failed: {type(exc).__name__}{f' ({code})' if code else ''}.")

    def _refused_credentials(self, *, network_rules: bool = False) -> StorageError:
        """Azure says AuthenticationFailed for a wrong key; Azurite says AuthorizationFailure."""
        if self.credential is None:
            firewall = (
                " If the key is current, the account's firewall may be refusing Spaceport's address."
                if network_rules
                else ""
            )
            return StorageError(
                "invalid_credentials",
                "The storage account did not accept the connection string's account key.",
                "Was the account key rotated? Copy the current connection string from Storage account > "
                f"Access keys and save it here.{firewall}",
            )
        return StorageError(
            "invalid_credentials",
            "The storage account did not accept the service principal's token.",
            "Check that the storage account URL belongs to the tenant "
            f"{self.config.get('tenant_id', '')} and that the account allows Entra ID sign-in.",
        )

    def _access_denied(self, code: str | None) -> StorageError:
        if self.credential is not None:
            return StorageError(
                "access_denied",
                f"Azure refused the operation for the service principal {self.config.get('client_id', '')}"
                f"{f' ({code})' if code else ''}.",
                "Give the service principal the role 'Storage Blob Data Contributor' on the storage account or "
                "the container (role assignments can take a few minutes to apply), and check that the account's "
                "firewall allows Spaceport's address.",
            )
        return StorageError(
            "access_denied",
            f"Azure refused the operation for this connection string{f' ({code})' if code else ''}.",
            "If the connection string holds a shared access signature, it must allow read, write, list and "
            "delete on blobs and must not have expired; also check the account's firewall allows Spaceport.",
        )

    def _identity_error(self, exc: ClientAuthenticationError) -> StorageError:
        """Entra ID refused the service principal; name it without repeating its secret."""
        tenant = self.config.get("tenant_id", "")
        client = self.config.get("client_id", "")
        return StorageError(
            "invalid_credentials",
            f"Entra ID did not issue a token to client {client} in tenant {tenant}.",
            "Check the tenant id and client id, that the client secret has not expired (or the certificate is the "
            "one uploaded to the app registration), and that the application still exists.",
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


def _network_failure(exc: BaseException) -> bool:
    """azure-identity reports a refused connection as an authentication error; find the network cause."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ServiceRequestError | ServiceResponseError | ConnectionError | TimeoutError):
            return True
        if any(marker in str(seen).lower() for marker in NETWORK_MARKERS):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _error_code(exc: Exception) -> str | None:
    code = getattr(exc, "error_code", None)
    if code:
        return str(getattr(code, "value", code))
    response = getattr(exc, "response", None)
    header = response.headers.get("x-ms-error-code") if response is not None else None
    return str(header) if header else None


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


def build_client(connection: CloudConnection) -> StorageClient:
    return AzureBlobClient(connection)
