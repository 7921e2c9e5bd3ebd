"""The request being served, for code that has no request argument but must act per request.

The audit trail reads it to say who did what from where, and the snapshots keep their version on
it so that a request sees one consistent version. It lives in the lowest layer so both can read it;
the request-context middleware (:mod:`portal.audit.context`) is the one place that sets it.
"""

from __future__ import annotations

from contextvars import ContextVar

from django.http import HttpRequest

current_request: ContextVar[HttpRequest | None] = ContextVar("current_request", default=None)
