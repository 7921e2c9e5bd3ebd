"""Rotating a connection's long-term key: create the next one, prove it works, store it, delete the old.

The order keeps a working key stored at every moment. The new key is created next to the old
one and validated exactly as a connection is (:func:`connections.probe.probe`); only then does
it replace the stored one, and only once it is stored is the old key deleted. A step that fails
leaves the old key in place and deletes the new one if it was made. The outcome (rotated, failed
and why, or rotated with the old key still to delete) is kept on the connection's
``key_rotation`` for its page and the API, and written to the audit trail. The cloud's part of
each step comes from the provider's :class:`~connections.providers.rotating.KeyRotation`.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from connections import binding, probe
from connections.models import CloudConnection, Status
from connections.providers.base import Check
from connections.providers.registry import key_rotation_for, rotatable_methods
from connections.providers.rotating import ROTATE_KEY, IssuedKey, KeyRotation, RotationFailed
from portal.audit.models import AuditEvent
from portal.audit.trail import record

logger = logging.getLogger(__name__)

# A new cloud key may take a few seconds to be accepted everywhere (AWS IAM is eventually consistent).
SETTLE_ATTEMPTS = 4
SETTLE_PAUSE = 5.0


class Outcome:
    ROTATED = "rotated"
    FAILED = "failed"
    OLD_KEY_KEPT = "old_key_kept"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class Result:
    outcome: str
    message: str


def opted_in(connection: CloudConnection) -> bool:
    return bool((connection.config or {}).get(ROTATE_KEY)) and key_rotation_for(connection) is not None


def last_rotated(connection: CloudConnection) -> datetime:
    """When the key in use was put there: its last rotation, or the connection's creation."""
    stamp = (connection.key_rotation or {}).get("rotated_at")
    return datetime.fromisoformat(stamp) if stamp else connection.created


def due(connection: CloudConnection, now: datetime | None = None) -> bool:
    """Opted in, in use and valid, and the key is at least ``SPACEPORT_CONNECTION_KEY_ROTATION_DAYS`` old."""
    if connection.status != Status.VALID or not opted_in(connection):
        return False
    age = (now or timezone.now()) - last_rotated(connection)
    return age >= timedelta(days=settings.SPACEPORT_CONNECTION_KEY_ROTATION_DAYS)


def due_ids(now: datetime | None = None) -> list[int]:
    """The connections whose key the workers rotate now."""
    candidates = CloudConnection.objects.filter(
        method__in=rotatable_methods(), status=Status.VALID, **{f"config__{ROTATE_KEY}": True}
    ).only("pk", "provider", "method", "config", "status", "key_rotation", "created")
    return [connection.pk for connection in candidates if due(connection, now)]


def rotate(
    connection: CloudConnection, *, settle_attempts: int = SETTLE_ATTEMPTS, settle_pause: float = SETTLE_PAUSE
) -> Result:
    """Replace the connection's key with a new one of the same cloud identity; see the module for the order."""
    rotation = key_rotation_for(connection)
    if rotation is None or not opted_in(connection):
        return Result(Outcome.SKIPPED, "The connection does not rotate its key.")
    if connection.status != Status.VALID:
        return _finish(connection, Outcome.FAILED, "Not rotated: the connection is not valid.", "Validate it first.")
    try:
        binding.require_bound(connection)
    except binding.SecretUnbound as exc:
        return _finish(connection, Outcome.FAILED, f"Not rotated: {exc}", "Enter the secret again.")
    old_key = rotation.key_id(connection)
    try:
        issued = rotation.issue(connection)
    except RotationFailed as exc:
        return _finish(connection, Outcome.FAILED, f"Not rotated, the old key is kept: {exc.message}", exc.hint)
    failed = _first_failure(_validate(connection, issued, settle_attempts, settle_pause))
    if failed is not None:
        undone = _withdraw_new(connection, rotation, issued)
        return _finish(
            connection,
            Outcome.FAILED,
            f"Not rotated, the old key is kept: the new key {issued.key_id} did not validate "
            f"({failed.operation}: {failed.message}){undone}",
            failed.hint,
        )
    stored = _store(connection, issued, old_key)
    if stored is None:
        undone = _withdraw_new(connection, rotation, issued)
        return _finish(
            connection,
            Outcome.FAILED,
            f"Not rotated, the stored key is kept: the connection changed during the rotation{undone}",
            "Spaceport tries again at its next run.",
        )
    try:
        rotation.withdraw(stored, old_key)
    except RotationFailed as exc:
        return _finish(
            stored,
            Outcome.OLD_KEY_KEPT,
            f"Rotated to {issued.key_id}, but the old key {old_key} could not be deleted: {exc.message}",
            f"Delete {old_key} in the cloud's console. {exc.hint}".strip(),
            old_key=old_key,
        )
    message = f"Rotated: {old_key} replaced by {issued.key_id} and deleted."
    return _finish(stored, Outcome.ROTATED, message, old_key=old_key)


def _candidate(connection: CloudConnection, issued: IssuedKey) -> CloudConnection:
    """The connection as it would be with the new key; never saved, so no shared client is reused for it."""
    return CloudConnection(
        organization=connection.organization,
        name=connection.name,
        provider=connection.provider,
        method=connection.method,
        config=issued.config,
        secret=issued.secret,
        external_id=connection.external_id,
    )


def _validate(connection: CloudConnection, issued: IssuedKey, attempts: int, pause: float) -> list[Check]:
    """Validate with the new key, waiting a little for the cloud to accept a key it has just made."""
    candidate = _candidate(connection, issued)
    checks: list[Check] = []
    for attempt in range(max(1, attempts)):
        if attempt:
            time.sleep(pause)
        try:
            checks, _ = probe.probe(candidate)
        except Exception as exc:
            checks = [Check("validate", False, probe.unexpected(connection, exc).message)]
        if _first_failure(checks) is None:
            break
    return checks


def _first_failure(checks: list[Check]) -> Check | None:
    return next((c for c in checks if not c.ok and not c.skipped), None)


def _withdraw_new(connection: CloudConnection, rotation: KeyRotation, issued: IssuedKey) -> str:
    """Delete the key that will not be used, signed with the stored one; says how that went."""
    try:
        rotation.withdraw(connection, issued.key_id)
    except RotationFailed as exc:
        logger.warning("Connection %s: the unused new key %s was not deleted", connection.pk, issued.key_id)
        return f"; the new key could not be deleted either ({exc.message}): delete {issued.key_id} by hand."
    return "; the new key was deleted."


def _store(connection: CloudConnection, issued: IssuedKey, old_key: str) -> CloudConnection | None:
    """Put the new key in place, unless the connection was edited, disabled or rotated meanwhile."""
    with transaction.atomic():
        current = CloudConnection.objects.select_for_update().filter(pk=connection.pk).first()
        if (
            current is None
            or current.status != Status.VALID
            or current.config != connection.config
            or dict(current.secret or {}) != dict(connection.secret or {})
        ):
            return None
        current.config = issued.config
        current.secret = binding.seal(current.method, issued.config, issued.secret)
        current.save(update_fields=["config", "secret", "modified"])
        record(
            "connection.key.store",
            current,
            details={
                "old_key_id": old_key,
                "new_key_id": issued.key_id,
                "destination": binding.destination(current.method, current.config),
            },
        )
    return current


def _finish(connection: CloudConnection, outcome: str, message: str, hint: str = "", *, old_key: str = "") -> Result:
    """Keep the outcome on the connection and in the audit trail; a rotation that stored its key restarts the clock."""
    now = timezone.now()
    previous: dict[str, Any] = dict(connection.key_rotation or {})
    rotation = key_rotation_for(connection)
    stored_key = now.isoformat() if outcome in (Outcome.ROTATED, Outcome.OLD_KEY_KEPT) else ""
    report: dict[str, Any] = {
        "outcome": outcome,
        "at": now.isoformat(),
        "message": message[:1000],
        "hint": hint[:1000],
        "key_id": rotation.key_id(connection) if rotation is not None else "",
        "rotated_at": stored_key or previous.get("rotated_at", ""),
    }
    CloudConnection.objects.filter(pk=connection.pk).update(key_rotation=report)
    connection.key_rotation = report
    record(
        "connection.key.rotate",
        connection,
        outcome=AuditEvent.Outcome.FAILURE if outcome == Outcome.FAILED else AuditEvent.Outcome.SUCCESS,
        details={"outcome": outcome, "message": report["message"], "old_key_id": old_key, "key_id": report["key_id"]},
    )
    return Result(outcome, message)
