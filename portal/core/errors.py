"""Domain exceptions; the API and pages turn them into answers in one place each."""

from __future__ import annotations


class DomainError(Exception):
    """Bad input or a broken rule, naming the field (or the object) at fault."""

    status = 400

    def __init__(self, field: str, message: str, code: str = "invalid") -> None:
        super().__init__(message)
        self.field = field
        self.message = message
        self.code = code


class AccessDenied(DomainError):
    status = 403

    def __init__(self, message: str, code: str = "permission_denied", field: str = "non_field_errors") -> None:
        super().__init__(field, message, code)


class NotFound(DomainError):
    status = 404

    def __init__(self, message: str, code: str = "not_found", field: str = "non_field_errors") -> None:
        super().__init__(field, message, code)
