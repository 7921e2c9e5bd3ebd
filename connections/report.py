"""A connection's validation report as the pages show it: one row per operation, in words.

The stored report is written by :mod:`connections.probe` once a run ends; while a run is
under way the page shows the operations it is about to try, so the person sees what is checked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from celery import states
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django_celery_results.models import TaskResult

from connections.models import CloudConnection, Status
from connections.retrying import describe_seconds, window_seconds

VALIDATION_TASK = "connections.tasks.validate_connection"
OPERATIONS = ("authenticate", "list", "write", "read", "delete")
TITLES = {
    "connect": "Connect",
    "authenticate": "Authenticate",
    "list": "List objects",
    "write": "Write a test object",
    "read": "Read it back",
    "delete": "Delete it again",
    "external_id": "ExternalId condition",
}


@dataclass(frozen=True)
class CheckRow:
    operation: str
    title: str
    state: str
    message: str = ""
    hint: str = ""
    duration_ms: int = 0


@dataclass(frozen=True)
class ReportView:
    status: str
    status_label: str
    status_message: str
    rows: list[CheckRow] = field(default_factory=list)
    checked_at: datetime | None = None
    retrying: bool = False
    attempt: int = 0
    attempts: int = 0
    next_try_at: datetime | None = None
    gives_up_at: datetime | None = None
    next_try_in: int = 0
    retry_window: str = ""
    waiting: bool = False

    @property
    def polling(self) -> bool:
        """Pages keep asking for news only while a run is under way."""
        return self.status == Status.VALIDATING

    @property
    def passed(self) -> int:
        return sum(1 for row in self.rows if row.state in ("passed", "warning"))

    @property
    def failed(self) -> int:
        return sum(1 for row in self.rows if row.state == "failed")

    @property
    def warnings(self) -> int:
        return sum(1 for row in self.rows if row.state == "warning")


def title_of(operation: str) -> str:
    return TITLES.get(operation, operation.replace("_", " ").capitalize())


def _state(check: dict[str, Any]) -> str:
    if check.get("skipped"):
        return "skipped"
    if not check.get("ok"):
        return "failed"
    return "warning" if check.get("warning") else "passed"


def _row(check: dict[str, Any]) -> CheckRow:
    operation = str(check.get("operation", ""))
    return CheckRow(
        operation=operation,
        title=title_of(operation),
        state=_state(check),
        message=str(check.get("message", "")),
        hint=str(check.get("hint", "")),
        duration_ms=int(check.get("duration_ms") or 0),
    )


def _moment(value: Any) -> datetime | None:
    return parse_datetime(value) if isinstance(value, str) else None


def _retry_schedule(report: dict[str, Any]) -> dict[str, Any]:
    """Which try failed, when the next one is and when Spaceport gives up, for the retry message."""
    stored = report.get("retry")
    retry: dict[str, Any] = stored if isinstance(stored, dict) else {}
    next_try_at = _moment(retry.get("next_try_at"))
    return {
        "attempt": int(retry.get("attempt") or 0),
        "attempts": int(retry.get("attempts") or 0),
        "next_try_at": next_try_at,
        "gives_up_at": _moment(retry.get("gives_up_at")),
        "next_try_in": max(0, round((next_try_at - timezone.now()).total_seconds())) if next_try_at else 0,
        "retry_window": describe_seconds(window_seconds()),
    }


def validation_started(connection_id: int) -> bool:
    """Whether a worker is on the connection's validation: its task's result row says STARTED
    (``CELERY_TASK_TRACK_STARTED``) from the moment a worker takes it until the run ends."""
    return TaskResult.objects.filter(
        task_name=VALIDATION_TASK, status=states.STARTED, task_args__contains=f"({connection_id},)"
    ).exists()


def report_of(connection: CloudConnection) -> ReportView:
    """What to show for the connection now: pending operations while validating, else the last report."""
    report = connection.validation_report or {}
    stored = [_row(check) for check in report.get("checks", []) if isinstance(check, dict)]
    checked_at = _moment(report.get("checked_at"))
    # A retry report written before the connection last changed belongs to the old details: new
    # details start a new run, which shows its pending operations, not the old run's failures.
    current = checked_at is not None and (connection.modified is None or checked_at >= connection.modified)
    retrying = connection.status == Status.VALIDATING and bool(report.get("retrying")) and current
    if connection.status == Status.VALIDATING and not retrying:
        rows = [CheckRow(operation, title_of(operation), "pending") for operation in OPERATIONS]
    elif connection.status == Status.DRAFT:
        rows = []
    else:
        rows = stored
    return ReportView(
        status=connection.status,
        status_label=Status(connection.status).label,
        status_message=connection.status_message,
        rows=rows,
        checked_at=checked_at,
        retrying=retrying,
        waiting=connection.status == Status.VALIDATING and not retrying and not validation_started(connection.pk),
        **(_retry_schedule(report) if retrying else {}),
    )
