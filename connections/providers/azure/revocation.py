"""An account-key SAS names a stored access policy Spaceport removes; a user-delegation SAS does not."""

from __future__ import annotations

from typing import TYPE_CHECKING

from connections.providers.azure.methods import CONNECTION_STRING, SERVICE_PRINCIPAL
from connections.providers.revoking import Revocability, Step, longest_lifetimes, nothing_issued

if TYPE_CHECKING:
    from connections.models import CloudConnection


def _azure_account_key(connection: CloudConnection) -> Revocability:
    secret = str((connection.secret or {}).get("connection_string", "")).lower()
    if "sharedaccesssignature=" in secret:
        return Revocability(
            True, "Spaceport issues no tokens through a connection string without an account key: nothing to revoke."
        )
    return Revocability(
        True,
        "Every SAS token Spaceport issued through this connection stops working at once: each names a stored "
        "access policy on its container, and disabling removes those policies (Azure applies this within "
        "30 seconds).",
    )


def _azure_delegation(connection: CloudConnection) -> Revocability:
    account = str(connection.config.get("account_url", "")).split("//")[-1].split(".")[0] or "<account>"
    return Revocability(
        False,
        "User-delegation SAS tokens cannot be issued under stored access policies, so Spaceport cannot recall "
        f"them: each stays valid until it expires, at most {longest_lifetimes()}. Revoking the storage account's "
        "user delegation keys ends them now, together with every other user-delegation SAS of the account.",
        [
            Step(
                "Revoke all user delegation keys of the storage account",
                f"az storage account revoke-delegation-keys --name {account} --resource-group <resource-group>",
            )
        ],
    )


def revocability(connection: CloudConnection) -> Revocability:
    if connection.method == CONNECTION_STRING:
        return _azure_account_key(connection)
    if connection.method == SERVICE_PRINCIPAL:
        return _azure_delegation(connection)
    return nothing_issued(connection)
