"""Which tasks a block's on-commit callbacks send (``django_capture_on_commit_callbacks``)."""

from __future__ import annotations

from typing import Any

from portal.core.dispatch import Sending


def sent_by(callbacks: list[Any]) -> list[str]:
    """The names of the owed tasks the callbacks send once their transaction commits; other callbacks are left out."""
    return [callback.task.name for callback in callbacks if isinstance(callback, Sending)]
