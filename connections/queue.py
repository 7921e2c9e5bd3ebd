"""What the connections app runs on a worker, sent once the current transaction commits.

Domain modules import this instead of :mod:`connections.tasks`, so the tasks (which call the domain)
and the domain (which starts them) never import each other. Only primary keys travel: a task
re-reads the row, so no secret passes through the broker. Each task is recorded as owed with the
row that asked for it (:mod:`portal.core.dispatch`), so a broker away at that moment loses none.
"""

from __future__ import annotations

import uuid

from connections import tasks
from portal.core.dispatch import owe


def validate(connection_id: int) -> None:
    """Test the connection against its storage; a copy of the request sent twice validates once."""
    owe(tasks.validate_connection, connection_id, request=uuid.uuid4().hex)


def revoke_connection_credentials(connection_id: int, reason: str = "connection_disabled") -> None:
    """Withdraw what was issued through the connection (it was disabled, or its organization deleted)."""
    owe(tasks.revoke_connection_credentials, connection_id, reason)


def prepare_space_storage(space_id: int) -> None:
    """Create a new space's storage where the cloud keeps one per space."""
    owe(tasks.prepare_space_storage, space_id)


def revoke_space_credentials(space_id: int) -> None:
    """Withdraw what was issued for a space marked for deletion."""
    owe(tasks.revoke_space_credentials, space_id)
