"""Request context (id, client address, actor) shared with logging and the audit trail."""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable
from contextvars import ContextVar

from django.http import HttpRequest, HttpResponse

from portal.core.requests import current_request

current_request_id: ContextVar[str] = ContextVar("current_request_id", default="-")

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def client_ip(request: HttpRequest) -> str | None:
    """The client's address as the socket saw it (a proxy's header is not trusted by default)."""
    return request.META.get("REMOTE_ADDR") or None


class RequestContextMiddleware:
    """Give every request an id (or keep a well-formed ``X-Request-ID``) and expose it to logs."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]
        request_token = current_request.set(request)
        id_token = current_request_id.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            current_request.reset(request_token)
            current_request_id.reset(id_token)
        response["X-Request-ID"] = request_id
        return response


class RequestContextLogFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id.get()
        return True
