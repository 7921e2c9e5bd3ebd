"""Work a committed transaction owes the broker: recorded with the row that asked for it, forgotten once sent."""

from __future__ import annotations

from django.db import models


class OwedTask(models.Model):
    """A task to send (its registered name and arguments: primary keys and plain values, never a secret).

    The row exists from the transaction that asked for the work until the broker took the message, so
    work asked for while the broker was away is not lost with the request (:mod:`portal.core.dispatch`).
    """

    task = models.CharField(max_length=200)
    args = models.JSONField(default=list, blank=True)
    kwargs = models.JSONField(default=dict, blank=True)
    created = models.DateTimeField(auto_now_add=True, db_index=True)
    attempts = models.PositiveIntegerField(default=0, help_text="How often sending it failed.")
    error = models.CharField(max_length=500, blank=True, help_text="Why the last try to send it failed.")

    class Meta:
        ordering = ["created", "id"]

    def __str__(self) -> str:
        return f"{self.task}{tuple(self.args)}"
