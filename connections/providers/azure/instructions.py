"""What a customer does in Azure for each method: the loadingzone container and the application's role."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from connections.providers.azure.methods import SERVICE_PRINCIPAL
from connections.providers.wizard import Instruction

if TYPE_CHECKING:
    from connections.models import CloudConnection


def steps(connection: CloudConnection) -> list[Instruction]:
    config = connection.config or {}
    account_url = config.get("account_url", "https://<account>.blob.core.windows.net")
    account = urlsplit(account_url).hostname.split(".")[0] if urlsplit(account_url).hostname else "<account>"
    found = [
        Instruction(
            "Create the loadingzone container (one container per space)",
            f"az storage container create --account-name {account} --name loadingzone --auth-mode login",
            "shell",
        )
    ]
    if connection.method == SERVICE_PRINCIPAL:
        found.append(
            Instruction(
                "Let the application read and write blobs",
                f"az role assignment create --assignee {config.get('client_id', '<client-id>')} "
                '--role "Storage Blob Data Contributor" '
                f"--scope $(az storage account show --name {account} --query id -o tsv)",
                "shell",
            )
        )
    return found
