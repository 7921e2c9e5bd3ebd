"""A queryset whose ``update()`` is heard like a save.

``QuerySet.update()`` writes rows without sending model signals, so whatever listens for changes
to a model (the access snapshots in :mod:`portal.core.snapshots`) would miss a bulk update.
Models whose changes others must hear of use this queryset; :data:`rows_updated` is sent after
every update that changed a row.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.dispatch import Signal

rows_updated = Signal()  # sender: the model class; count: how many rows the update changed


class ChangeSignallingQuerySet(models.QuerySet[Any]):
    def update(self, **kwargs: Any) -> int:
        count = super().update(**kwargs)
        if count:
            rows_updated.send(sender=self.model, count=count)
        return count
