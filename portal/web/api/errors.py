"""Every error the API answers has one shape: ``{"error": code, "message": sentence, "fields": {...}}``.

Clients (and the SDK) then need one code path for failures, and a validation error always
names the field at fault under ``fields``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from portal.core.errors import DomainError

NON_FIELD = "non_field_errors"
BODY = "body"


def _flatten(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """Turn DRF's nested error details into ``{"field" or "field.0.sub": [messages]}``."""
    if isinstance(detail, Mapping):
        flat: dict[str, list[str]] = {}
        for key, value in detail.items():
            name = NON_FIELD if str(key) in ("__all__", NON_FIELD) and not prefix else str(key)
            flat.update(_flatten(value, f"{prefix}.{name}" if prefix else name))
        return flat
    if isinstance(detail, list) and any(isinstance(item, (Mapping, list)) for item in detail):
        flat = {}
        for index, item in enumerate(detail):
            if item:
                flat.update(_flatten(item, f"{prefix}.{index}" if prefix else str(index)))
        return flat
    items = detail if isinstance(detail, list) else [detail]
    return {prefix or NON_FIELD: [str(item) for item in items]}


def _summary(fields: Mapping[str, list[str]]) -> str:
    if len(fields) == 1:
        name, messages = next(iter(fields.items()))
        message = messages[0] if messages else "This value is not valid."
        return message if name == NON_FIELD else f"{name}: {message}"
    return "Some fields are not valid: " + ", ".join(fields) + "."


def error_response(
    status_code: int,
    code: str,
    message: str,
    fields: Mapping[str, list[str]] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    return Response(
        {"error": code, "message": message, "fields": dict(fields or {})},
        status=status_code,
        headers=dict(headers or {}),
    )


def _validation_code(exc: exceptions.ValidationError) -> str:
    """A single code when every problem shares it (``unique``, ``invalid_choice``...), else ``invalid``."""
    codes: set[str] = set()

    def collect(value: Any) -> None:
        if isinstance(value, Mapping):
            for item in value.values():
                collect(item)
        elif isinstance(value, list):
            for item in value:
                collect(item)
        elif isinstance(value, str):
            codes.add(value)

    collect(exc.get_codes())
    return codes.pop() if len(codes) == 1 else "invalid"


def _django_validation(exc: DjangoValidationError) -> Response:
    fields = _flatten(exc.message_dict) if hasattr(exc, "error_dict") else {NON_FIELD: list(exc.messages)}
    codes = {error.code for error in exc.error_list} if not hasattr(exc, "error_dict") else set()
    code = codes.pop() if len(codes) == 1 and None not in codes else "invalid"
    return error_response(status.HTTP_400_BAD_REQUEST, str(code or "invalid"), _summary(fields), fields)


def exception_handler(exc: Exception, context: Mapping[str, Any]) -> Response | None:
    """DRF's exception hook: domain errors, Django and DRF errors become one JSON shape.

    Anything not listed here stays unhandled, so genuine server errors still reach Django's
    500 handling and its logging.
    """
    if isinstance(exc, RequestDataTooBig):
        set_rollback()
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        message = f"The request body is larger than the {limit} bytes allowed."
        return error_response(status.HTTP_413_REQUEST_ENTITY_TOO_LARGE, "request_too_large", message, {BODY: [message]})
    if isinstance(exc, DomainError):
        set_rollback()
        fields = {exc.field: [exc.message]} if exc.status == status.HTTP_400_BAD_REQUEST else {}
        retry_after = getattr(exc, "retry_after", None)
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
        return error_response(exc.status, exc.code, exc.message, fields, headers)
    if isinstance(exc, DjangoValidationError):
        set_rollback()
        return _django_validation(exc)

    response = drf_exception_handler(exc, dict(context))
    if response is None:
        return None
    headers = {name: value for name, value in response.items() if name in ("WWW-Authenticate", "Retry-After")}
    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(exc.detail)
        return error_response(response.status_code, _validation_code(exc), _summary(fields), fields, headers)
    detail = getattr(exc, "detail", None)
    message = str(detail) if detail is not None else str(exc)
    code = getattr(detail, "code", None) or getattr(exc, "default_code", "error")
    if isinstance(exc, (exceptions.ParseError, exceptions.UnsupportedMediaType)):
        return error_response(response.status_code, str(code), message, {BODY: [message]}, headers)
    return error_response(response.status_code, str(code), message, None, headers)
