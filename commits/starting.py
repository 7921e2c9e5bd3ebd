"""Starting a commit: check the caller, the root directory and the storage, then queue the move.

Everything that can be refused is refused here, synchronously, so a client gets a clear answer
and nothing is queued: a bad or empty root directory, a space the caller may not write to, an
organization without working storage, and a root directory a running commit already covers.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction

from accessgrants.access import Access, Target, check_access, connection_of
from commits import queue
from commits.models import ACTIVE_STATES, Commit
from connections.storage import VALIDATION_PREFIX, StorageError, client_for, location_for
from portal.audit.models import AuditEvent
from portal.audit.trail import record
from portal.core.errors import DomainError
from portal.core.printable import has_control_characters
from portal.tenancy.models import LOADINGZONE, Organization, Space, State
from portal.tenancy.rules import AccessContext

MAX_ROOT_DIR_LENGTH = 512


class InvalidRootDir(DomainError):
    def __init__(self, message: str, code: str = "invalid_root_dir") -> None:
        super().__init__("root_dir", message, code)


class CommitRunning(DomainError):
    """A queued or running commit covers this root directory (or one inside or around it)."""

    status = 409

    def __init__(self, running: Commit) -> None:
        super().__init__(
            "root_dir",
            f"Commit {running.pk} of '{running.root_dir}' is still {running.state}; wait until it finishes.",
            "commit_running",
        )
        self.running = running


class StorageUnavailable(DomainError):
    status = 502

    def __init__(self, error: StorageError) -> None:
        super().__init__("non_field_errors", f"The loadingzone could not be listed: {error.message}", error.code)


def clean_root_dir(value: str | None) -> str:
    """The root directory as stored: no leading or trailing slash, no empty, '.' or '..' segments."""
    if value is None or not value.strip().strip("/"):
        raise InvalidRootDir("Name the directory in the loadingzone to commit.", "root_dir_required")
    if len(value) > MAX_ROOT_DIR_LENGTH:
        raise InvalidRootDir(f"The root directory may be at most {MAX_ROOT_DIR_LENGTH} characters long.")
    if has_control_characters(value) or "\\" in value:
        raise InvalidRootDir("The root directory may not contain control characters or backslashes.")
    cleaned = value.strip().strip("/")
    segments = cleaned.split("/")
    if any(segment in ("", ".", "..") for segment in segments):
        raise InvalidRootDir("The root directory may not contain '..', '.' or empty segments ('//').")
    if cleaned + "/" == VALIDATION_PREFIX or cleaned.startswith(VALIDATION_PREFIX):
        raise InvalidRootDir("This directory is reserved for Spaceport's connection checks.", "root_dir_reserved")
    return cleaned


def _overlapping(organization: Organization, root_dir: str) -> Commit | None:
    """An active commit whose root directory equals, contains or lies inside this one."""
    for active in Commit.objects.filter(organization=organization, state__in=ACTIVE_STATES).only(
        "pk", "root_dir", "state"
    ):
        if root_dir == active.root_dir or (root_dir + "/").startswith(active.root_dir + "/"):
            return active
        if active.root_dir.startswith(root_dir + "/"):
            return active
    return None


def _refuse(space: Space, reason: str, root_dir: str | None) -> None:
    record(
        "commit.refuse",
        space,
        outcome=AuditEvent.Outcome.DENIED,
        details={"reason": reason, "root_dir": (root_dir or "")[:MAX_ROOT_DIR_LENGTH]},
    )


def _has_objects(space: Space, root_dir: str) -> bool:
    connection = connection_of(space)
    client = client_for(connection)
    location = location_for(connection, LOADINGZONE)
    try:
        return any(True for _ in client.list_objects(location, root_dir + "/", limit=1))
    except Exception as exc:
        raise StorageUnavailable(client.explain(exc)) from None


def start_commit(
    context: AccessContext,
    space: Space,
    *,
    root_dir: str | None,
    user: Any,
    overwrite: bool = False,
    origin: str = Commit.Origin.API,
) -> Commit:
    """Queue the move of ``root_dir/`` from the loadingzone into ``space``; refusals are audited."""
    try:
        check_access(context, space, Access.WRITE, Target.SPACE)
        if space.is_loadingzone:
            raise DomainError("space", "Commit into a space, not into the loadingzone itself.", "loadingzone_target")
        if space.state != State.OPEN:
            raise DomainError("space", f"The space is {space.get_state_display().lower()}.", "space_not_open")
        cleaned = clean_root_dir(root_dir)
        connection_of(space)
        running = _overlapping(space.organization, cleaned)
        if running is not None:
            raise CommitRunning(running)
        if not _has_objects(space, cleaned):
            raise InvalidRootDir(
                f"There is nothing under '{cleaned}/' in the loadingzone of {space.organization.name}.",
                "root_dir_empty",
            )
        commit = _create(space, cleaned, user=user, overwrite=overwrite, origin=origin)
    except DomainError as exc:
        _refuse(space, exc.code, root_dir)
        raise
    record(
        "commit.start",
        commit,
        details={"space": space.name, "root_dir": cleaned, "overwrite": overwrite, "origin": origin},
    )
    return commit


def _create(space: Space, root_dir: str, *, user: Any, overwrite: bool, origin: str) -> Commit:
    """Insert the commit under a lock on the organization, so overlapping roots cannot both start."""
    try:
        with transaction.atomic():
            Organization.objects.select_for_update().filter(pk=space.organization_id).first()
            running = _overlapping(space.organization, root_dir)
            if running is not None:
                raise CommitRunning(running)
            commit = Commit.objects.create(
                organization=space.organization,
                space=space,
                root_dir=root_dir,
                user=user if getattr(user, "is_authenticated", False) else None,
                user_label=str(getattr(user, "email", "") or getattr(user, "username", "") or ""),
                overwrite=overwrite,
                origin=origin,
            )
            queue.run_commit(commit.pk)
    except IntegrityError:
        running = _overlapping(space.organization, root_dir)
        if running is None:
            raise
        raise CommitRunning(running) from None
    return commit


def start_accessmanager_commit(context: AccessContext, space: Space, *, root_dir: str, user: Any) -> int:
    """AccessManager's ``commit``: started like any other, filed under its origin; the id for its answer."""
    return start_commit(context, space, root_dir=root_dir, user=user, origin=Commit.Origin.ACCESSMANAGER).pk
