"""Re-encrypt every stored secret under the first key in SPACEPORT_ENCRYPTION_KEYS."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from connections import crypto
from connections.fields import encrypted_fields, rotate_field


class Command(BaseCommand):
    help = (
        "Re-encrypt every encrypted field under the first key in SPACEPORT_ENCRYPTION_KEYS, so that older "
        "keys can be removed afterwards. Safe to run again: values already under the first key are left alone."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=500, help="rows per transaction (default 500)")

    def handle(self, *args: Any, **options: Any) -> None:
        batch_size: int = options["batch_size"]
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        total_checked = total_rewritten = 0
        for model, field in encrypted_fields():
            try:
                count = rotate_field(model, field, batch_size=batch_size)
            except crypto.DecryptionError as exc:
                raise CommandError(f"{exc} Nothing after the last finished batch was changed.") from None
            total_checked += count.checked
            total_rewritten += count.rewritten
            self.stdout.write(f"{count.label}: {count.checked} checked, {count.rewritten} re-encrypted")
        self.stdout.write(
            self.style.SUCCESS(
                f"Done: {total_checked} values checked, {total_rewritten} re-encrypted under the first key."
            )
        )
