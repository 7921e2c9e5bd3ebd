"""Each space's storage: creating it with the space, checking it, and revoking what was issued for it.

On Azure a space is a container of its own: Spaceport creates it when the space is created (or
the connection is validated), and where the connection may not create containers, the space
records what to create by hand. Prefix-based stores need nothing per space.

Revoking withdraws, where the cloud allows it, every credential Spaceport issued for a space
(Azure account-key SAS tokens, through their stored access policies). Everything else stays
valid until it expires; the pages and docs say for how long.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from connections.active import active_connection, active_connection_id
from connections.models import CloudConnection, SpaceStorage, Status
from connections.providers.base import StorageClient, StorageError
from connections.providers.registry import client_for, location_for
from portal.audit.trail import record
from portal.tenancy.models import Organization, Space, State

# Validation prepares at most this many spaces per run, so one run stays within its time limit.
MAX_SPACES_PER_CHECK = 200


@dataclass
class Revocation:
    """What revoking did: spaces whose credentials were withdrawn, and those where the cloud cannot."""

    revoked: int = 0
    spaces: int = 0
    not_revocable: bool = False
    failures: dict[str, str] = field(default_factory=dict)


def usable_connection(organization: Organization) -> CloudConnection | None:
    """The organization's connection if Spaceport may use it now."""
    connection = active_connection(organization)
    if connection is None or connection.status in (Status.DISABLED, Status.DRAFT):
        return None
    return connection


def prepare(space: Space, connection: CloudConnection | None = None, client: StorageClient | None = None) -> None:
    """Create the space's storage if the provider needs one, and record whether it is in place.

    A transient failure is raised for the caller to retry; a refusal is recorded with the fix.
    """
    connection = connection or usable_connection(space.organization)
    if connection is None or space.state == State.DELETION:
        return
    client = client or client_for(connection)
    location = location_for(connection, space.name)
    command = client.storage_command(location)
    if not command:
        return
    try:
        client.prepare_space(location)
    except StorageError as exc:
        if exc.transient:
            raise
        _remember(space, connection, SpaceStorage.State.MISSING, exc.message, exc.hint, command)
        return
    _remember(space, connection, SpaceStorage.State.READY, "", "", command)


def _remember(
    space: Space, connection: CloudConnection, state: str, message: str, hint: str, command: str
) -> SpaceStorage:
    storage, _ = SpaceStorage.objects.update_or_create(
        space=space,
        defaults={
            "connection": connection,
            "state": state,
            "message": message[:500],
            "hint": hint[:1000],
            "command": command[:500],
        },
    )
    return storage


def prepare_all(connection: CloudConnection, client: StorageClient) -> list[SpaceStorage]:
    """Prepare every open space of the connection's organization; returns those still missing their storage."""
    spaces = (
        Space.objects.filter(organization_id=connection.organization_id)
        .exclude(state=State.DELETION)
        .select_related("organization")
        .order_by("name")[:MAX_SPACES_PER_CHECK]
    )
    for space in spaces:
        prepare(space, connection, client)
    return list(
        SpaceStorage.objects.filter(
            space__organization_id=connection.organization_id,
            connection=connection,
            state=SpaceStorage.State.MISSING,
        )
        .exclude(space__state=State.DELETION)
        .select_related("space")
        .order_by("space__name")
    )


def missing_storage(space: Space) -> SpaceStorage | None:
    """The space's recorded missing storage under the organization's current connection, if any."""
    storage = SpaceStorage.objects.filter(space=space, state=SpaceStorage.State.MISSING).first()
    if storage is None or storage.connection_id != active_connection_id(space.organization):
        return None
    return storage


def revoke(connection: CloudConnection, spaces: list[Space], reason: str) -> Revocation:
    """Withdraw every credential issued through ``connection`` for ``spaces``, where the cloud allows it.

    Cached credentials are dropped too: touching the organization's connections changes the
    version every cached token is filed under.
    """
    outcome = Revocation()
    client = client_for(connection)
    for space in spaces:
        try:
            removed = client.revoke_issued(location_for(connection, space.name))
        except StorageError as exc:
            outcome.failures[space.name] = exc.message
            continue
        if removed is None:
            outcome.not_revocable = True
            continue
        outcome.spaces += 1
        outcome.revoked += removed
    with transaction.atomic():
        CloudConnection.objects.filter(organization_id=connection.organization_id).update(modified=timezone.now())
    record(
        "connection.revoke",
        connection,
        details={
            "reason": reason,
            "spaces": outcome.spaces,
            "policies_removed": outcome.revoked,
            "not_revocable": outcome.not_revocable,
            "failures": dict(list(outcome.failures.items())[:20]),
        },
    )
    return outcome


def revoke_connection(connection: CloudConnection, reason: str = "connection_disabled") -> Revocation:
    """Disabling the connection or deleting the organization: every space of the organization, the
    loadingzone and spaces being deleted included."""
    spaces = list(Space.objects.filter(organization_id=connection.organization_id).order_by("name"))
    return revoke(connection, spaces, reason)


def revoke_space(space: Space) -> Revocation | None:
    """Deleting a space: withdraw what was issued for it through the organization's connection."""
    connection = active_connection(space.organization)
    if connection is None or connection.status == Status.DRAFT:
        return None
    return revoke(connection, [space], "space_deleted")
