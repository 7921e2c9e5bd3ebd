"""AccessManager's error answers, byte for byte where its clients parse them.

AccessManager answers its own failures with ``{timestamp, status, error, errorCode, message}``
(message = ``"<code>: <text>"``) and Spring's framework failures (missing parameter, wrong method)
with ``application/problem+json``. Clients match on ``errorCode``, so the codes and texts are
AccessManager's; the codes it never had (10081 rate limit, 10091-10093 commit refusals, 50301 identity
provider unreachable) are Spaceport's own.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus

from django.http import HttpResponse

NO_STORE = {
    "Cache-Control": "no-cache, no-store, max-age=0, must-revalidate",
    "Pragma": "no-cache",
    "Expires": "0",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "X-XSS-Protection": "0",
}
RFC6750 = "https://tools.ietf.org/html/rfc6750#section-3.1"


@dataclass(frozen=True)
class ErrorCode:
    code: int
    status: int
    text: str


SAVE_ACCESS_DENIED = ErrorCode(10001, 403, "Missing permission to save file.")
READ_ACCESS_DENIED = ErrorCode(10011, 403, "Missing permission to download file.")
DELETE_ACCESS_DENIED = ErrorCode(10021, 403, "Missing permission to delete file.")
UNABLE_FIND_ACCOUNT = ErrorCode(10041, 404, "Unable to find the given Storage Account.")
CONTAINER_NOT_EXISTS = ErrorCode(10051, 400, "The requested container does not exist!")
ORGANIZATION_NOT_FOUND = ErrorCode(10061, 404, "Unable to find the given organization.")
TOO_MANY_REQUESTS = ErrorCode(10081, 429, "Too many tokens requested.")
UNKNOWN_ERROR = ErrorCode(50000, 500, "something unexpected happened.")
INVALID_ROOT_DIR = ErrorCode(10091, 400, "The root directory is not valid.")
NOTHING_TO_COMMIT = ErrorCode(10092, 400, "There is nothing to commit under the root directory.")
COMMIT_RUNNING = ErrorCode(10093, 409, "A commit of this root directory is still running.")
IDENTITY_PROVIDER_UNAVAILABLE = ErrorCode(
    50301, 503, "The identity provider's signing keys could not be fetched; try again shortly."
)


class CompatError(Exception):
    """A failure answered in AccessManager's JSON shape; ``extra`` is appended as its constructor did."""

    def __init__(self, error: ErrorCode, extra: str = "", headers: dict[str, str] | None = None) -> None:
        super().__init__(error.text)
        self.error = error
        self.extra = extra
        self.headers = headers or {}


def _with_headers(response: HttpResponse, headers: dict[str, str] | None = None) -> HttpResponse:
    for name, value in {**NO_STORE, **(headers or {})}.items():
        response[name] = value
    return response


def error_response(error: ErrorCode, extra: str = "", headers: dict[str, str] | None = None) -> HttpResponse:
    message = f"{error.code}: {error.text}" + (f" {extra}" if extra else "")
    body = {
        "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds"),
        "status": error.status,
        "error": HTTPStatus(error.status).phrase,
        "errorCode": error.code,
        "message": message,
    }
    response = HttpResponse(json.dumps(body), status=error.status, content_type="application/json")
    return _with_headers(response, headers)


def problem_response(status: int, detail: str, instance: str, headers: dict[str, str] | None = None) -> HttpResponse:
    """Spring's RFC 7807 answer for failures before the controller runs."""
    body = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "instance": instance,
    }
    response = HttpResponse(json.dumps(body), status=status, content_type="application/problem+json")
    return _with_headers(response, headers)


def not_found_response(path: str) -> HttpResponse:
    """Spring Boot's ``/error`` body for a path no endpoint maps."""
    body = {
        "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds"),
        "status": 404,
        "error": "Not Found",
        "message": "No endpoint " + path,
        "path": path,
    }
    return _with_headers(HttpResponse(json.dumps(body), status=404, content_type="application/json"))


def unauthorized_response(description: str = "", scheme: str = "Bearer") -> HttpResponse:
    """401 with an empty body, as Spring Security's bearer entry point answers."""
    challenge = scheme
    if description:
        safe = description.replace("\\", "").replace('"', "'")
        challenge = f'{scheme} error="invalid_token", error_description="{safe}", error_uri="{RFC6750}"'
    return _with_headers(HttpResponse(b"", status=401), {"WWW-Authenticate": challenge})


def token_response(sas: str, accept: str) -> HttpResponse:
    """The bare SAS query string; Spring labels it JSON when only JSON is acceptable, unquoted all the same."""
    wanted = accept.lower()
    json_only = "application/json" in wanted and "text/plain" not in wanted and "*/*" not in wanted
    content_type = "application/json" if json_only else "text/plain;charset=UTF-8"
    return _with_headers(HttpResponse(sas.encode(), status=200, content_type=content_type))
