"""Signing a service principal in to Entra ID: only at an authority the operator allows, through the egress policy."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from azure.core.credentials import TokenCredential
from azure.core.pipeline.transport import RequestsTransport
from azure.identity import AzureAuthorityHosts, CertificateCredential, ClientSecretCredential

from connections.egress_http import guarded_session
from connections.providers.azure.inputs import azure_authority_host
from connections.providers.base import StorageError

TIMEOUTS: dict[str, Any] = {"connection_timeout": 10, "read_timeout": 60}
KNOWN_AUTHORITY_HOSTS = {
    AzureAuthorityHosts.AZURE_PUBLIC_CLOUD,
    AzureAuthorityHosts.AZURE_GOVERNMENT,
    AzureAuthorityHosts.AZURE_CHINA,
}


def service_principal_credential(config: dict[str, Any], secret: dict[str, Any]) -> TokenCredential:
    """One credential per client: azure-identity caches its token and renews it before expiry."""
    options: dict[str, Any] = {"transport": transport()}
    authority = allowed_authority(config.get("authority_host") or "")
    options["authority"] = authority
    if endpoint_host(authority) not in KNOWN_AUTHORITY_HOSTS:
        options["disable_instance_discovery"] = True
    try:
        if secret.get("client_secret"):
            return ClientSecretCredential(config["tenant_id"], config["client_id"], secret["client_secret"], **options)
        return CertificateCredential(
            config["tenant_id"], config["client_id"], certificate_data=secret["certificate"].encode(), **options
        )
    except ValueError:
        raise StorageError(
            "invalid_authority",
            f"Entra ID cannot be reached at the authority host {authority}: azure-identity only accepts an https "
            "authority (or the certificate cannot be read).",
            "Ask the operator to list the authority as an https URL in SPACEPORT_AZURE_AUTHORITY_HOSTS, choose it on "
            "the connection's page, and enter the client secret or certificate again.",
        ) from None


def allowed_authority(authority: str) -> str:
    """The secret only ever goes to an authority the operator allows, whatever the row says.

    Empty means the public cloud, as azure-identity assumes, and is held to the same list. Where
    the host points is checked by the guarded transport as it connects, not looked up twice.
    """
    try:
        return azure_authority_host(authority or f"https://{AzureAuthorityHosts.AZURE_PUBLIC_CLOUD}", vetted=False)
    except ValueError:
        raise StorageError(
            "authority_not_allowed",
            f"The authority host {authority} is not one this Spaceport allows; the client secret or certificate "
            "is not sent there.",
            "Choose an authority host from the list on the connection's page and enter the client secret or "
            "certificate again.",
        ) from None


def transport() -> RequestsTransport:
    return RequestsTransport(session=guarded_session(), session_owner=True, **TIMEOUTS)


def endpoint_host(url: str) -> str:
    return urlsplit(url).hostname or url
