"""Log filters that keep the console readable: one line per handled client error."""

from __future__ import annotations

import logging


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
