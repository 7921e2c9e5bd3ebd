"""Re-encrypt every stored secret under the first key in SPACEPORT_ENCRYPTION_KEYS."""

from __future__ import annotations

import getpass
import socket
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from portal.audit.models import AuditEvent
from portal.audit.trail import record
from portal.core import crypto
from portal.core.fields import RotationCount, encrypted_fields, rotate_field

ACTION = "encryption_keys.rotate"


def _operator() -> str:
    """Who ran the command, as far as the machine knows: there is no signed-in person outside a request."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"{user}@{socket.gethostname()} (rotate_encryption_keys)"


def _audit(counts: list[RotationCount], *, failure: str = "") -> None:
    """One event per run, with counts per field: never a key, a ciphertext or a value."""
    record(
        ACTION,
        outcome=AuditEvent.Outcome.FAILURE if failure else AuditEvent.Outcome.SUCCESS,
        actor_label=_operator(),
        target_label="encrypted fields",
        details={
            "keys_configured": len(settings.ENCRYPTION_KEYS),
            "fields": [
                {"field": count.label, "checked": count.checked, "rewritten": count.rewritten} for count in counts
            ],
            "checked": sum(count.checked for count in counts),
            "rewritten": sum(count.rewritten for count in counts),
            **({"error": failure} if failure else {}),
        },
    )


class Command(BaseCommand):
    help = (
        "Re-encrypt every encrypted field under the first key in SPACEPORT_ENCRYPTION_KEYS, so that older "
        "keys can be removed afterwards. Safe to run again: values already under the first key are left alone. "
        "Each run is recorded on the audit trail."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=500, help="rows per transaction (default 500)")

    def handle(self, *args: Any, **options: Any) -> None:
        batch_size: int = options["batch_size"]
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        counts: list[RotationCount] = []
        for model, field in encrypted_fields():
            try:
                count = rotate_field(model, field, batch_size=batch_size)
            except crypto.DecryptionError as exc:
                _audit(counts, failure=str(exc))
                raise CommandError(f"{exc} Nothing after the last finished batch was changed.") from None
            counts.append(count)
            self.stdout.write(f"{count.label}: {count.checked} checked, {count.rewritten} re-encrypted")
        _audit(counts)
        self.stdout.write(
            self.style.SUCCESS(
                f"Done: {sum(c.checked for c in counts)} values checked, "
                f"{sum(c.rewritten for c in counts)} re-encrypted under the first key."
            )
        )
