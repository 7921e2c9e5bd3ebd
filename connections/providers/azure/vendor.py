"""Azure: a SAS for the space's container, as AccessManager hands them out.

With the account key (connection string) the token is a service SAS in AccessManager's wire
format, issued under a stored access policy of the container so that it can be revoked:
``sv=2021-04-10&st=..&se=..&si=spaceport-read-..&sr=c&sig=..``. The policy holds the
permissions; the token keeps its own start and expiry, and clients use it as they always did.
A service principal has no account key; it signs a user-delegation SAS with a key obtained
through Entra ID. Azure does not allow stored access policies for those: such a token stays
valid until it expires (or until the account's delegation keys are revoked).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import shlex
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, quote

from azure.core.exceptions import AzureError
from azure.storage.blob import BlobServiceClient, UserDelegationKey, generate_container_sas

from connections.providers.azure.client import AzureBlobClient
from connections.providers.azure.policies import SAS_PERMISSIONS, ContainerPolicies
from connections.providers.base import StorageError
from connections.providers.vending import Access, Credential, NotVendable, Scope
from portal.core import snapshots
from portal.core.cache import ProcessMemory

if TYPE_CHECKING:
    from connections.models import CloudConnection
    from connections.providers.descriptor import ClientSource

# Whether credentials carry the person's identity, and so are cached per person (see issuing).
PER_USER = False

KIND = "azure_sas"

# How the card names each part of the credential's secret.
SECRET_LABELS = {
    "sas": "SAS token",
    "container_url": "Container URL with SAS",
}
# How the card names each ready-to-run snippet.
SNIPPET_LABELS = {
    "env": "Environment",
    "azcopy": "azcopy",
    "rclone": "rclone",
    "rclone_usage": "rclone usage",
}
SAS_VERSION = "2021-04-10"
PERMISSIONS = {Access(level): permission for level, permission in SAS_PERMISSIONS.items()}
QUERY_ORDER = (
    "sv",
    "spr",
    "st",
    "se",
    "sip",
    "si",
    "skoid",
    "sktid",
    "skt",
    "ske",
    "sks",
    "skv",
    "skdutid",
    "saoid",
    "suoid",
    "scid",
    "sduoid",
    "sr",
    "sp",
    "sig",
)
DELEGATION_KEY_LIFETIME = timedelta(days=1)
MAX_DELEGATION_KEY_LIFETIME = timedelta(days=7)

# By connection: the modification time it was asked under, the key, and when the key expires.
_delegation_keys: ProcessMemory[int, tuple[str, UserDelegationKey, datetime]] = ProcessMemory(
    "Azure user delegation keys",
    entries=256,
    secrets="a delegation key signs SAS tokens for up to seven days; asking Entra ID-backed storage "
    "for one on every vend would add a round trip and count against the account's request limits, "
    "and it is used only while it outlives the token being signed",
)


# How long a container found in place (with its stored access policy) is taken as still there.
CONTAINER_CHECK_SECONDS = 60

# By connection and its modification time, access snapshot version, container and permissions:
# the policy tokens are issued under ("" for a delegation SAS, which has none), and until when
# (monotonic) the container is taken as still there.
_checked_containers: ProcessMemory[tuple[int, str, str, str, str], tuple[str, float]] = ProcessMemory(
    "Azure containers checked", entries=4096
)


class ContainerMissing(NotVendable):
    """The space has no container in the storage account (AccessManager's ``10051``)."""


def sas_time(moment: datetime) -> str:
    """UTC to the second, as the SAS fields and AccessManager's tokens carry it."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def encode_query(fields: dict[str, str]) -> str:
    """The SAS query in the Java SDK's parameter order, every value fully percent-encoded."""
    ordered = [name for name in QUERY_ORDER if fields.get(name)]
    ordered += [name for name in fields if name not in QUERY_ORDER and fields[name]]
    return "&".join(f"{name}={quote(fields[name], safe='')}" for name in ordered)


def service_sas(
    account_name: str,
    account_key: str,
    container: str,
    permission: str,
    start: datetime,
    expiry: datetime,
    *,
    policy: str = "",
) -> str:
    """A service SAS on a container signed with the account key, version 2021-04-10.

    Signed here rather than by the SDK because the SDK always signs with its newest version;
    the string to sign is the documented one for versions 2020-12-06 and later. Under a stored
    access ``policy`` the permissions come from the policy (Azure refuses them in both places),
    while start and expiry stay in the token.
    """
    if policy:
        permission = ""
    fields = {"sv": SAS_VERSION, "st": sas_time(start), "se": sas_time(expiry), "si": policy, "sr": "c"}
    fields["sp"] = permission
    string_to_sign = "\n".join(
        [
            permission,
            fields["st"],
            fields["se"],
            f"/blob/{account_name}/{container}",
            policy,  # si
            "",  # sip
            "",  # spr
            SAS_VERSION,
            "c",
            "",  # snapshot time
            "",  # ses
            "",  # rscc
            "",  # rscd
            "",  # rsce
            "",  # rscl
            "",  # rsct
        ]
    )
    digest = hmac.new(base64.b64decode(account_key), string_to_sign.encode(), hashlib.sha256).digest()
    fields["sig"] = base64.b64encode(digest).decode()
    return encode_query(fields)


class AzureVendor:
    """Container SAS tokens; shared by everyone who asks for the same scope (no identity inside)."""

    per_user = PER_USER

    def __init__(self, connection: CloudConnection, client: AzureBlobClient) -> None:
        self.connection = connection
        self.client = client

    @property
    def service(self) -> BlobServiceClient:
        return self.client.service

    @property
    def account_url(self) -> str:
        return str(self.service.primary_endpoint).split("?", 1)[0].rstrip("/")

    def vend(self, scope: Scope) -> Credential:
        container = scope.location.bucket
        permission = PERMISSIONS[Access(scope.access)]
        start = datetime.now(UTC).replace(microsecond=0)
        expiry = start + scope.lifetime
        if self.client.credential is None:
            account_name, account_key = self._account_key()
            policy = self._checked(
                container, permission, lambda: self._policy(container, str(scope.access), permission)
            )
            sas = service_sas(account_name, account_key, container, permission, start, expiry, policy=policy)
        else:
            self._checked(container, "", lambda: self._require_container(container))
            sas = self._delegation_sas(container, permission, start, expiry)
        return self._credential(scope, container, sas, expiry)

    def _checked(self, container: str, permission: str, check: Callable[[], str | None]) -> str:
        """What ``check`` found (the container is there, with its policy), asked again after a minute.

        A new SAS costs one signature; asking the storage account whether the container and its
        policy are there costs a round trip, several times more. The answer is kept under the
        connection's modification time and the access snapshot version, so disabling the
        connection or changing the space asks again at once; a container deleted in Azure itself
        is noticed within :data:`CONTAINER_CHECK_SECONDS`, as a cached SAS would be handed out
        meanwhile anyway.
        """
        modified = self.connection.modified.isoformat() if self.connection.modified else ""
        key = (self.connection.pk or 0, modified, snapshots.version(), container, permission)
        held = _checked_containers.get(key)
        if held is not None and held[1] > time.monotonic():
            return held[0]
        found = check() or ""
        _checked_containers.put(key, (found, time.monotonic() + CONTAINER_CHECK_SECONDS))
        return found

    def _policy(self, container: str, level: str, permission: str) -> str:
        """The stored access policy the token is issued under, so disabling the connection revokes it."""
        try:
            return ContainerPolicies(self.client, container).ensure(level, permission)
        except StorageError as exc:
            if exc.code == "no_such_container":
                raise self._missing(container) from None
            if exc.code == "too_many_policies":
                raise NotVendable("space", f"{exc.message} {exc.hint}", exc.code) from None
            raise

    def _require_container(self, container: str) -> None:
        try:
            exists = self.service.get_container_client(container).exists()
        except AzureError as exc:
            raise self.client.explain(exc, container=container) from exc
        if not exists:
            raise self._missing(container)

    def _missing(self, container: str) -> ContainerMissing:
        return ContainerMissing(
            "space",
            f"The container '{container}' does not exist in the storage account. "
            f"{self.client.container_hint(container)}",
            "no_such_container",
        )

    def _account_key(self) -> tuple[str, str]:
        """The account name and key a service SAS is signed with; a SAS-only connection string has none."""
        shared_key = self.service.credential
        account_key = getattr(shared_key, "account_key", None)
        if self.client.uses_sas or not account_key:
            raise NotVendable(
                "connection",
                "The connection string holds no account key, so Spaceport cannot sign tokens with it; "
                "use a connection string with AccountKey or a service principal.",
                "connection_cannot_sign",
            )
        return str(getattr(shared_key, "account_name", "") or self.service.account_name), str(account_key)

    def _delegation_sas(self, container: str, permission: str, start: datetime, expiry: datetime) -> str:
        key = self._delegation_key(start, expiry)
        token = generate_container_sas(
            str(self.service.account_name),
            container,
            user_delegation_key=key,
            permission=permission,
            start=start,
            expiry=expiry,
        )
        return encode_query(dict(parse_qsl(token, keep_blank_values=True)))

    def _delegation_key(self, start: datetime, expiry: datetime) -> UserDelegationKey:
        """One delegation key per connection, reused while it outlives the token being signed.

        Asking Entra ID-backed storage for a key on every vend would add a round trip and
        count against the account's request limits.
        """
        version = self.connection.modified.isoformat() if self.connection.modified else ""
        held = _delegation_keys.get(self.connection.pk or 0)
        if held is not None and held[0] == version and held[2] >= expiry:
            return held[1]
        key_expiry = min(max(expiry, start + DELEGATION_KEY_LIFETIME), start + MAX_DELEGATION_KEY_LIFETIME)
        try:
            key = self.service.get_user_delegation_key(key_start_time=start, key_expiry_time=key_expiry)
        except AzureError as exc:
            raise self.client.explain(exc) from exc
        _delegation_keys.put(self.connection.pk or 0, (version, key, key_expiry))
        return key

    def _credential(self, scope: Scope, container: str, sas: str, expiry: datetime) -> Credential:
        container_url = f"{self.account_url}/{container}?{sas}"
        return Credential(
            provider="azure",
            kind=KIND,
            access=str(scope.access),
            expires_at=expiry,
            location={"account_url": self.account_url, "container": container, "prefix": scope.location.prefix},
            secret={"sas": sas, "container_url": container_url},
            snippets=snippets(self.account_url, container, sas, scope.access),
        )


def snippets(account_url: str, container: str, sas: str, access: str) -> dict[str, str]:
    """Ready-to-paste configuration: environment variables, an azcopy command and an rclone remote."""
    container_url = f"{account_url}/{container}?{sas}"
    quoted_url = shlex.quote(container_url)
    env = "\n".join(
        [
            f"export AZURE_STORAGE_ACCOUNT_URL={shlex.quote(account_url)}",
            f"export AZURE_STORAGE_CONTAINER={shlex.quote(container)}",
            f"export AZURE_STORAGE_SAS_TOKEN={shlex.quote(sas)}",
        ]
    )
    azcopy = {
        Access.READ: f"azcopy copy {quoted_url} ./{container} --recursive",
        Access.WRITE: f"azcopy copy './upload/*' {quoted_url} --recursive",
        Access.DELETE: f"azcopy sync ./{container} {quoted_url} --delete-destination=true",
    }[Access(access)]
    rclone = "\n".join([f"[spaceport-{container}]", "type = azureblob", f"sas_url = {container_url}", ""])
    return {
        "env": env,
        "azcopy": azcopy,
        "rclone": rclone,
        "rclone_usage": f"rclone ls spaceport-{container}:{container}",
    }


def build_vendor(connection: CloudConnection, client_for: ClientSource) -> AzureVendor:
    """The vendor shares the connection's cached client, so its credential and token cache live on."""
    client = client_for(connection)
    if not isinstance(client, AzureBlobClient):
        raise NotVendable("connection", "The connection is not an Azure Blob Storage connection.", "not_azure")
    return AzureVendor(connection, client)
