"""Azure Blob Storage: one container per space, reached by connection string or service principal."""

from __future__ import annotations

from collections.abc import Iterator
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
from azure.identity import AzureAuthorityHosts, CertificateCredential, ClientSecretCredential
from azure.storage.blob import BlobServiceClient, ExponentialRetry

from connections.methods import Method
from connections.providers.base import Location, StorageClient, StorageError, StoredObject

if TYPE_CHECKING:
    from connections.models import CloudConnection

STORAGE_SCOPE = "https://storage.azure.com/.default"
PAGE_SIZE = 1000
TIMEOUTS: dict[str, Any] = {"connection_timeout": 10, "read_timeout": 60}
KNOWN_AUTHORITY_HOSTS = {
    AzureAuthorityHosts.AZURE_PUBLIC_CLOUD,
    AzureAuthorityHosts.AZURE_GOVERNMENT,
    AzureAuthorityHosts.AZURE_CHINA,
}
NETWORK_MARKERS = ("failed to establish a new connection", "name or service not known", "connection refused")
CLOCK_SKEW_MARKERS = ("request date header too old", "time skew", "clock skew", "aadsts700024")


class AzureBlobClient(StorageClient):
    """Blob operations on the container named by ``Location.bucket``.

    The service principal's credential object lives as long as this client, so azure-identity's
    token cache is reused and tokens are renewed shortly before they expire.
    """

    def __init__(self, connection: CloudConnection) -> None:
        super().__init__(connection)
        secret = dict(connection.secret or {})
        self.credential: TokenCredential | None = None
        self.uses_sas = "sharedaccesssignature=" in str(secret.get("connection_string", "")).lower()
        if connection.method == Method.AZURE_CONNECTION_STRING:
            self.service = BlobServiceClient.from_connection_string(secret["connection_string"], **_options())
        elif connection.method == Method.AZURE_SERVICE_PRINCIPAL:
            self.credential = _service_principal_credential(self.config, secret)
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
                f"Spaceport could not reach Entra ID at {_host(authority)}.",
                "Check the authority host, DNS and that the firewall lets Spaceport out; "
                "this may also be a passing network failure.",
                transient=True,
            ) from exc

    def explain(self, exc: Exception, container: str = "") -> StorageError:
        if isinstance(exc, StorageError):
            return exc
        code = _error_code(exc)
        text = str(exc).lower()
        named = f"'{container}'" if container else "of this space"
        if code == "ContainerNotFound":
            return StorageError(
                "no_such_container",
                f"The container {named} does not exist.",
                f"the container {named} does not exist: create it in the storage account",
            )
        if code == "BlobNotFound" or (isinstance(exc, ResourceNotFoundError) and code is None):
            return StorageError("not_found", "The object does not exist.")
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
                f"Spaceport could not reach Azure Storage at {_host(self.service.url)}.",
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


def _service_principal_credential(config: dict[str, Any], secret: dict[str, Any]) -> TokenCredential:
    """One credential per client: azure-identity caches its token and renews it before expiry."""
    options: dict[str, Any] = {}
    authority = config.get("authority_host") or ""
    if authority:
        options["authority"] = authority
        if _host(authority) not in KNOWN_AUTHORITY_HOSTS:
            options["disable_instance_discovery"] = True
    if secret.get("client_secret"):
        return ClientSecretCredential(config["tenant_id"], config["client_id"], secret["client_secret"], **options)
    return CertificateCredential(
        config["tenant_id"], config["client_id"], certificate_data=secret["certificate"].encode(), **options
    )


def _options() -> dict[str, Any]:
    """Short SDK retries (about 5 s), so a failing check answers quickly; callers retry transient errors."""
    return {
        "retry_policy": ExponentialRetry(initial_backoff=1, increment_base=1, retry_total=2, random_jitter_range=1),
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


def _etag(value: Any) -> str:
    return str(value or "").strip('"')


def _host(url: str) -> str:
    return urlsplit(url).hostname or url


def build_client(connection: CloudConnection) -> StorageClient:
    return AzureBlobClient(connection)
