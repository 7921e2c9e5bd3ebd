"""What the connections app does when a space changes: portal knows nothing of storage, so it listens."""

from __future__ import annotations

from typing import Any

from connections import queue
from connections.active import active_connection_id
from portal.tenancy.models import Organization, Space, State


def space_saved(sender: type[Space], instance: Space, created: bool, **kwargs: Any) -> None:
    """A new space gets its storage; a space marked for deletion loses every credential issued for it.

    Both run on a worker once the transaction commits, so the page that made the change never
    waits for the cloud.
    """
    update_fields = kwargs.get("update_fields")
    deleted = instance.state == State.DELETION and (update_fields is None or "state" in update_fields)
    # The organization is loaded only when there is something to do: most saves are plain edits.
    if kwargs.get("raw") or not (created or deleted) or active_connection_id(instance.organization) is None:
        return
    if created:
        queue.prepare_space_storage(instance.pk)
    else:
        queue.revoke_space_credentials(instance.pk)


def organization_saved(sender: type[Organization], instance: Organization, created: bool, **kwargs: Any) -> None:
    """An organization marked for deletion loses every credential issued for its spaces."""
    update_fields = kwargs.get("update_fields")
    if created or kwargs.get("raw") or instance.state != State.DELETION:
        return
    connection_id = active_connection_id(instance)
    if connection_id is not None and (update_fields is None or "state" in update_fields):
        queue.revoke_connection_credentials(connection_id, "organization_deleted")
