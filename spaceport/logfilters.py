"""Log filters and formats: one line per handled client error, and JSON lines for log collectors."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime


class ClientErrorsWithoutTraceback(logging.Filter):
    """Drop the traceback Django attaches to a logged 4xx answer.

    A refused or missing page (403, 404, 400) is the portal working as intended; Django still logs it
    with the exception that produced it, so every ordinary refusal filled the console with a stack.
    Server errors (5xx) keep their traceback.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if isinstance(status, int) and status < 500:
            record.exc_info = None
            record.exc_text = None
        return True


class JsonLines(logging.Formatter):
    """One JSON object a line: the time, level, logger and message, and the record's ``fields``
    (a dict the caller passes as ``extra={"fields": ...}``) at the top level, for log pipelines."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        # The web process's lines carry the request id (the request context filter sets it).
        request_id = getattr(record, "request_id", None)
        if request_id is not None:
            line["request_id"] = request_id
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            line.update(fields)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str, separators=(",", ":"))
