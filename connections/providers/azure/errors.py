"""What Azure's refusals and failures mean for the person who set the connection up.

Each SDK exception becomes a :class:`StorageError` that names the credential at fault (the account
key, the connection string's SAS, or the service principal) and says what to change, without
repeating a secret.
"""

from __future__ import annotations

from dataclasses import dataclass

from azure.core.exceptions import (
    ClientAuthenticationError,
    HttpResponseError,
    ResourceNotFoundError,
    ServiceRequestError,
    ServiceResponseError,
)

from connections.egress import found_in
from connections.providers.azure.signin import endpoint_host
from connections.providers.base import StorageError

NETWORK_MARKERS = ("failed to establish a new connection", "name or service not known", "connection refused")
CLOCK_SKEW_MARKERS = ("request date header too old", "time skew", "clock skew", "aadsts700024")


@dataclass(frozen=True)
class Signer:
    """What an error message may say about the connection's credential."""

    service_principal: bool
    uses_sas: bool
    tenant_id: str = ""
    client_id: str = ""


def explained(exc: Exception, signer: Signer, *, container: str, container_hint: str, service_url: str) -> StorageError:
    """Turn an Azure SDK exception into a :class:`StorageError` that says what to do about it.

    ``container_hint`` is what to do about a missing container; ``service_url`` is the account's
    endpoint, named when it cannot be reached.
    """
    if isinstance(exc, StorageError):
        return exc
    refused = found_in(exc)
    if refused is not None:
        return refused
    code = error_code(exc)
    text = str(exc).lower()
    named = f"'{container}'" if container else "of this space"
    if code == "ContainerNotFound":
        return StorageError(
            "no_such_container",
            f"The container {named} does not exist.",
            container_hint,
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
        return _identity_error(signer)
    if code in ("AuthenticationFailed", "InvalidAuthenticationInfo", "NoAuthenticationInformation"):
        return _refused_credentials(signer)
    if code == "AuthorizationFailure" and not signer.service_principal and not signer.uses_sas:
        return _refused_credentials(signer, network_rules=True)
    if code in ("AuthorizationPermissionMismatch", "AuthorizationFailure", "InsufficientAccountPermissions") or (
        isinstance(exc, HttpResponseError) and exc.status_code == 403
    ):
        return _access_denied(signer, code)
    if isinstance(exc, ServiceRequestError | ServiceResponseError):
        return StorageError(
            "unreachable",
            f"Spaceport could not reach Azure Storage at {endpoint_host(service_url)}.",
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


def _refused_credentials(signer: Signer, *, network_rules: bool = False) -> StorageError:
    """Azure says AuthenticationFailed for a wrong key; Azurite says AuthorizationFailure."""
    if not signer.service_principal:
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
        f"{signer.tenant_id} and that the account allows Entra ID sign-in.",
    )


def _access_denied(signer: Signer, code: str | None) -> StorageError:
    if signer.service_principal:
        return StorageError(
            "access_denied",
            f"Azure refused the operation for the service principal {signer.client_id}{f' ({code})' if code else ''}.",
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


def _identity_error(signer: Signer) -> StorageError:
    """Entra ID refused the service principal; name it without repeating its secret."""
    tenant = signer.tenant_id
    client = signer.client_id
    return StorageError(
        "invalid_credentials",
        f"Entra ID did not issue a token to client {client} in tenant {tenant}.",
        "Check the tenant id and client id, that the client secret has not expired (or the certificate is the "
        "one uploaded to the app registration), and that the application still exists.",
    )


def network_failure(exc: BaseException) -> bool:
    """azure-identity reports a refused connection as an authentication error; find the network cause."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ServiceRequestError | ServiceResponseError | ConnectionError | TimeoutError):
            return True
        if any(marker in str(seen).lower() for marker in NETWORK_MARKERS):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def error_code(exc: Exception) -> str | None:
    code = getattr(exc, "error_code", None)
    if code:
        return str(getattr(code, "value", code))
    response = getattr(exc, "response", None)
    header = response.headers.get("x-ms-error-code") if response is not None else None
    return str(header) if header else None
