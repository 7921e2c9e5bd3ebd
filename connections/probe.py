"""Validating a connection by doing, for real, what Spaceport will do with it.

The run authenticates, lists, writes a small object under a reserved prefix in the
loadingzone, reads it back, deletes it, then runs the provider's own checks. Each operation
lands in the report with an actionable message; an operation whose predecessor failed is
reported as skipped rather than attempted.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from contextlib import suppress
from dataclasses import asdict
from typing import Any

from django.utils import timezone

from connections import spaces
from connections.models import CloudConnection, Status
from connections.providers.base import Check, StorageClient, StorageError
from connections.providers.registry import client_for, location_for, validation_location
from connections.retrying import plan as retrying_plan
from portal.audit.models import AuditEvent
from portal.audit.trail import record
from portal.tenancy.models import LOADINGZONE

logger = logging.getLogger(__name__)

PAYLOAD = b"Spaceport checks that it can write, read and delete here. This object is removed at once.\n"


def _timed(operation: str, action: Callable[[], str], client: StorageClient) -> tuple[Check, StorageError | None]:
    started = time.monotonic()
    try:
        message = action()
    except StorageError as exc:
        return _failed(operation, exc, started), exc
    except Exception as exc:
        error = client.explain(exc)
        return _failed(operation, error, started), error
    return Check(operation, True, message, duration_ms=int((time.monotonic() - started) * 1000)), None


def _failed(operation: str, error: StorageError, started: float) -> Check:
    return Check(
        operation,
        False,
        error.message,
        hint=error.hint,
        duration_ms=int((time.monotonic() - started) * 1000),
        details={"code": error.code, "transient": "yes" if error.transient else "no"},
    )


def probe(connection: CloudConnection) -> tuple[list[Check], bool]:
    """Run every operation; returns the checks and whether a failure may pass if retried."""
    try:
        client = client_for(connection)
    except StorageError as exc:
        return [_failed("connect", exc, time.monotonic())], exc.transient
    except Exception as exc:
        return [_failed("connect", unexpected(connection, exc), time.monotonic())], False
    location = validation_location(connection)
    key = f"{uuid.uuid4().hex}.txt"
    with suppress(StorageError):
        # The loadingzone's own storage (an Azure container) first; if that fails, listing says why.
        client.prepare_space(location_for(connection, LOADINGZONE))

    def listing() -> str:
        count = sum(1 for _ in client.list_objects(location, limit=10))
        return f"Listed {count} object(s) in {location.bucket}."

    def write() -> str:
        return f"Wrote {location.key(key)} ({client.put_object(location, key, PAYLOAD).size} bytes)."

    def delete() -> str:
        client.delete_object(location, key)
        return f"Deleted {location.key(key)}."

    steps: list[tuple[str, Callable[[], str]]] = [
        ("authenticate", client.authenticate),
        ("list", listing),
        ("write", write),
        ("read", lambda: _read_back(client, location, key)),
        ("delete", delete),
    ]
    checks: list[Check] = []
    transient = False
    for operation, action in steps:
        if checks and not checks[-1].ok:
            checks.append(Check(operation, False, "Not attempted: an earlier step failed.", skipped=True))
            continue
        check, error = _timed(operation, action, client)
        checks.append(check)
        transient = transient or bool(error and error.transient)
    if all(c.ok for c in checks):
        checks.extend(client.extra_checks())
        spaces_check = space_storage_check(connection, client)
        if spaces_check is not None:
            checks.append(spaces_check)
    return checks, transient


def space_storage_check(connection: CloudConnection, client: StorageClient) -> Check | None:
    """Every space's own storage is in place (created here where the connection may); None where none is needed."""
    if not client.storage_command(location_for(connection, LOADINGZONE)):
        return None
    started = time.monotonic()
    try:
        missing = spaces.prepare_all(connection, client)
    except StorageError as exc:
        check = _failed("spaces", exc, started)
        check.ok, check.warning = True, True  # the connection works; only some spaces may not yet
        return check
    duration = int((time.monotonic() - started) * 1000)
    if not missing:
        return Check("spaces", True, f"Every space has its {client.space_storage_name}.", duration_ms=duration)
    names = ", ".join(f"'{storage.space.name}'" for storage in missing[:10])
    more = f" and {len(missing) - 10} more" if len(missing) > 10 else ""
    commands = "; ".join(storage.command for storage in missing[:10])
    return Check(
        "spaces",
        True,
        f"{len(missing)} space(s) have no {client.space_storage_name} and Spaceport may not create one: {names}{more}.",
        hint=f"Create them in {client.space_storage_place}: {commands}. {client.space_storage_grant}".strip(),
        warning=True,
        duration_ms=duration,
        details={"missing": ",".join(storage.space.name for storage in missing)[:1000]},
    )


def unexpected(connection: CloudConnection, exc: BaseException) -> StorageError:
    """An error no provider explained, as a message a person can act on.

    Only the exception's type is shown and logged: its text may come from an SDK that quotes
    what it was given, secrets included.
    """
    logger.warning("Validating connection %s failed with %s", connection.pk, type(exc).__name__)
    return StorageError(
        "unexpected",
        f"Spaceport could not use this connection's settings ({type(exc).__name__}).",
        "Check every field on the connection's page and save it again; if it keeps failing, the operator finds "
        f"this connection (id {connection.pk}) in the server log.",
    )


def _read_back(client: StorageClient, location: Any, key: str) -> str:
    data = client.get_object(location, key)
    if data != PAYLOAD:
        raise StorageError(
            "corrupted", "The object read back differs from what was written.", "Check for a proxy rewriting content."
        )
    return f"Read {len(data)} bytes back, unchanged."


def summarize(checks: list[Check]) -> tuple[str, str]:
    """The connection's status and one sentence saying why."""
    failed = [c for c in checks if not c.ok and not c.skipped]
    if failed:
        first = failed[0]
        return Status.INVALID, f"{first.operation} failed: {first.message}"[:500]
    warnings = [c for c in checks if c.warning]
    if warnings:
        return Status.VALID, f"Works, with {len(warnings)} warning(s): {warnings[0].message}"[:500]
    return Status.VALID, "Every operation succeeded."


def validate(
    connection: CloudConnection, *, final: bool = True, retries_so_far: int = 0, request: str = ""
) -> tuple[str, bool]:
    """Validate and store the report (naming the ``request`` it answers); returns the status and
    whether a retry could help.

    With ``final=False`` a transient failure leaves the connection in ``validating`` so the
    caller can retry; the report still shows what happened, and when the next try is
    (``retries_so_far`` places this try on :mod:`connections.retrying`'s schedule).
    """
    try:
        checks, transient = probe(connection)
    except Exception as exc:
        checks, transient = [_failed("validate", unexpected(connection, exc), time.monotonic())], False
    status, message = summarize(checks)
    retrying = status == Status.INVALID and transient and not final
    now = timezone.now()
    report: dict[str, Any] = {
        "request": request,
        "checked_at": now.isoformat(),
        "status": status,
        "retrying": retrying,
        "checks": [asdict(c) for c in checks],
    }
    if retrying:
        report["retry"] = retrying_plan(retries_so_far, now)
    CloudConnection.objects.filter(pk=connection.pk).exclude(status=Status.DISABLED).update(
        status=Status.VALIDATING if retrying else status,
        status_message=("Retrying: " + message)[:500] if retrying else message,
        validation_report=report,
        validated_at=timezone.now(),
    )
    if not retrying:
        record(
            "connection.validate",
            connection,
            outcome=AuditEvent.Outcome.SUCCESS if status == Status.VALID else AuditEvent.Outcome.FAILURE,
            details={
                "status": status,
                "previous_status": (connection.validation_report or {}).get("status", ""),
                "message": message,
                "failed": [c.operation for c in checks if not c.ok and not c.skipped],
            },
        )
    return status, retrying


def reported_for(connection: CloudConnection, request: str) -> bool:
    """Whether the last report answers ``request`` (an outcome, or a retry its own task carries on):
    a second copy of the request finds nothing left to do."""
    return bool(request) and (connection.validation_report or {}).get("request") == request
