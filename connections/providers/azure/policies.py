"""Stored access policies on a space's container: what Spaceport's SAS tokens are issued under.

A service SAS signed with the account key cannot be recalled once handed out; one that names a
stored access policy (``si``) stops working the moment the policy is gone. Spaceport keeps one
policy per access level on each container, named ``spaceport-<level>-<random>``, holding only the
permissions: every token still carries its own start and expiry, so its lifetime stays exactly
what was asked for. Removing the policies (disabling the connection, deleting the space) revokes
every token issued under them; new ones get new random names, so an old token never comes back.
Azure allows five policies per container, and applies a change within 30 seconds.
"""

from __future__ import annotations

import secrets
import threading
from typing import TYPE_CHECKING, Any, Protocol

from azure.core.exceptions import AzureError, ResourceExistsError
from azure.storage.blob import AccessPolicy, ContainerClient
from django.db import transaction

from connections.providers.base import StorageError

if TYPE_CHECKING:
    from azure.storage.blob import BlobServiceClient

    from connections.models import CloudConnection


class AzureBlobClient(Protocol):
    """What the policies need of the Azure client; named here so the client can import this module."""

    connection: CloudConnection
    service: BlobServiceClient

    def explain(self, exc: Exception, container: str = "") -> StorageError: ...


POLICY_PREFIX = "spaceport-"
MAX_POLICIES = 5
# AccessManager's permissions per access level, in the SDK's canonical letter order.
SAS_PERMISSIONS = {"read": "rl", "write": "racwl", "delete": "racwdl"}

_process_lock = threading.Lock()


def policy_level(identifier: str) -> str | None:
    """The access level a Spaceport policy is for; None for a policy somebody else made."""
    if not identifier.startswith(POLICY_PREFIX):
        return None
    level, _, nonce = identifier[len(POLICY_PREFIX) :].rpartition("-")
    return level if level and nonce else None


class ContainerPolicies:
    """The stored access policies of one container, read and written through the connection's client."""

    def __init__(self, client: AzureBlobClient, container: str) -> None:
        self.client = client
        self.container = container
        self.container_client: ContainerClient = client.service.get_container_client(container)

    def _read(self) -> tuple[dict[str, Any], Any]:
        """Every policy by name, and the container's public access setting (kept as it is on write)."""
        try:
            acl = self.container_client.get_container_access_policy()
        except AzureError as exc:
            raise self.client.explain(exc, container=self.container) from exc
        policies = {item.id: item.access_policy for item in acl.get("signed_identifiers") or []}
        return policies, acl.get("public_access")

    def _write(self, policies: dict[str, Any], public_access: Any) -> None:
        try:
            self.container_client.set_container_access_policy(policies, public_access=public_access)
        except AzureError as exc:
            raise self.client.explain(exc, container=self.container) from exc

    def current(self, level: str, permission: str) -> str | None:
        """The name of the policy tokens of ``level`` are issued under, if it is in place."""
        policies, _ = self._read()
        return _matching(policies, level, permission)

    def ensure(self, level: str, permission: str) -> str:
        """The policy for ``level``, created if missing; raises ``no_such_container`` for a missing container."""
        existing = self.current(level, permission)
        if existing is not None:
            return existing
        return self._add({level: permission})[level]

    def ensure_all(self) -> dict[str, str]:
        """Every level's policy, made ahead of the first token: Azure applies a new policy within 30 s."""
        policies, _ = self._read()
        held = {level: _matching(policies, level, permission) for level, permission in SAS_PERMISSIONS.items()}
        if all(held.values()):
            return {level: str(name) for level, name in held.items()}
        return self._add(SAS_PERMISSIONS)

    def _add(self, wanted: dict[str, str]) -> dict[str, str]:
        """Add the missing policies among ``wanted`` (level to permissions) in one write; returns every name.

        Writing is a read-modify-write of the whole list, so writers are serialized on the
        connection's row: two processes adding policies at once must not drop each other's.
        """
        from connections.models import CloudConnection as Connections

        with _process_lock, transaction.atomic():
            if self.client.connection.pk:
                Connections.objects.select_for_update().filter(pk=self.client.connection.pk).exists()
            policies, public_access = self._read()
            names = {level: _matching(policies, level, permission) for level, permission in wanted.items()}
            missing = [level for level, name in names.items() if name is None]
            if not missing:
                return {level: str(name) for level, name in names.items()}
            kept = {name: policy for name, policy in policies.items() if policy_level(name) not in missing}
            if len(kept) + len(missing) > MAX_POLICIES:
                raise StorageError(
                    "too_many_policies",
                    f"The container '{self.container}' already has {len(kept)} stored access policies; "
                    f"Azure allows {MAX_POLICIES} and Spaceport needs {len(missing)} more.",
                    f"Remove a stored access policy Spaceport did not create from the container '{self.container}' "
                    "(Storage account > Containers > Access policy).",
                )
            for level in missing:
                name = f"{POLICY_PREFIX}{level}-{secrets.token_hex(6)}"
                kept[name] = AccessPolicy(permission=wanted[level])
                names[level] = name
            self._write(kept, public_access)
            return {level: str(name) for level, name in names.items()}

    def revoke(self) -> int:
        """Remove every Spaceport policy; returns how many. A container that is gone has nothing to revoke."""
        try:
            policies, public_access = self._read()
        except StorageError as exc:
            if exc.code == "no_such_container":
                return 0
            raise
        kept = {name: policy for name, policy in policies.items() if policy_level(name) is None}
        removed = len(policies) - len(kept)
        if removed:
            self._write(kept, public_access)
        return removed


def _matching(policies: dict[str, Any], level: str, permission: str) -> str | None:
    """A policy of ours for the level that holds exactly the permissions and no window of its own."""
    for name, policy in policies.items():
        if policy_level(name) != level or policy is None:
            continue
        if policy.permission == permission and not policy.expiry and not policy.start:
            return str(name)
    return None


def create_container(client: AzureBlobClient, container: str) -> bool:
    """Create the container; False if it already existed.

    A connection that may use containers but not create them is refused before Azure looks
    whether the container exists, so a refusal is followed by asking.
    """
    try:
        client.service.create_container(container)
    except ResourceExistsError:
        return False
    except AzureError as exc:
        refusal = client.explain(exc, container=container)
        try:
            exists = client.service.get_container_client(container).exists()
        except AzureError:
            exists = False
        if exists:
            return False
        raise refusal from exc
    return True
