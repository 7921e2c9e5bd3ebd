"""What the connections app runs on a worker, enqueued once the current transaction commits.

Domain modules import this instead of :mod:`connections.tasks`, so the tasks (which call the domain)
and the domain (which starts them) never import each other. Only primary keys travel: a task
re-reads the row, so no secret passes through the broker.
"""

from __future__ import annotations

from django.db import transaction

from connections import tasks


def validate(connection_id: int) -> None:
    """Test the connection against its storage."""
    transaction.on_commit(lambda: tasks.validate_connection.delay(connection_id))


def revoke_connection_credentials(connection_id: int, reason: str = "connection_disabled") -> None:
    """Withdraw what was issued through the connection (it was disabled, or its organization deleted)."""
    transaction.on_commit(lambda: tasks.revoke_connection_credentials.delay(connection_id, reason))


def prepare_space_storage(space_id: int) -> None:
    """Create a new space's storage where the cloud keeps one per space."""
    transaction.on_commit(lambda: tasks.prepare_space_storage.delay(space_id))


def revoke_space_credentials(space_id: int) -> None:
    """Withdraw what was issued for a space marked for deletion."""
    transaction.on_commit(lambda: tasks.revoke_space_credentials.delay(space_id))
