"""What the commits app runs on a worker, sent once the current transaction commits.

Domain modules import this instead of :mod:`commits.tasks`, so the tasks (which call the engine)
and the code that starts them never import each other. The engine announces a finished commit
with :data:`commits.engine.finished`; :func:`notify_webhook` answers it, connected when the app is
ready. Each task is recorded as owed with the row that asked for it (:mod:`portal.core.dispatch`),
so a broker away at that moment loses none.
"""

from __future__ import annotations

from typing import Any

from commits import tasks, webhooks
from commits.models import Commit
from portal.core.dispatch import owe


def run_commit(commit_id: int) -> None:
    """Move a commit's objects from the loadingzone into its space."""
    owe(tasks.run_commit, commit_id)


def deliver_webhook(delivery_id: int) -> None:
    """POST one recorded webhook delivery."""
    owe(tasks.deliver_webhook, delivery_id)


def notify_webhook(sender: Any, commit: Commit, **kwargs: Any) -> None:
    """Record the delivery inside the transaction that settles the commit, and send it once it commits."""
    delivery = webhooks.notify(commit)
    if delivery is not None:
        deliver_webhook(delivery.pk)
