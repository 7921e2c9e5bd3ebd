"""AccessManager's v2.0 endpoints: a SAS for a space's container, answered as AccessManager did.

Plain Django views rather than DRF: the answers are bare strings and Spring-shaped errors, and
this is the hot path (one space lookup, the caller's roles, the token cache, one audit row).
The rules, the cache and the audit are the native API's (``issuing.issue``); only the wire
format is AccessManager's. Its defects are not reproduced: tokens are cached per access level,
space roles count only in their own organization, and unknown spaces answer like forbidden ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, cast

from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions
from rest_framework.authentication import get_authorization_header

from accessgrants.compat.errors import (
    COMMIT_RUNNING,
    CONTAINER_NOT_EXISTS,
    DELETE_ACCESS_DENIED,
    IDENTITY_PROVIDER_UNAVAILABLE,
    INVALID_ROOT_DIR,
    NO_STORE,
    NOTHING_TO_COMMIT,
    ORGANIZATION_NOT_FOUND,
    READ_ACCESS_DENIED,
    SAVE_ACCESS_DENIED,
    TOO_MANY_REQUESTS,
    UNABLE_FIND_ACCOUNT,
    UNKNOWN_ERROR,
    CompatError,
    ErrorCode,
    error_response,
    not_found_response,
    problem_response,
    token_response,
    unauthorized_response,
)
from accessgrants.vending import plans
from accessgrants.vending.issuing import NotVendable, RateLimited, check_access, issue
from connections.storage import Access, StorageError, Target, active_connection, descriptor_of, with_active_connection
from portal.audit.models import AuditEvent
from portal.audit.trail import record
from portal.auth.authentication import ApiTokenAuthentication
from portal.auth.bearer import IssuerUnavailable, authenticate_bearer
from portal.core import snapshots
from portal.core.errors import AccessDenied, DomainError
from portal.tenancy.access import access_for
from portal.tenancy.models import Organization, Space
from portal.tenancy.rules import AccessContext
from portal.web.stateless import stateless

NO_CONTAINER = "no_such_container"


@dataclass(frozen=True)
class Operation:
    """One endpoint: the access it needs, where its token opens, and the code that refuses it."""

    access: str
    target: str
    denied: ErrorCode


OPERATIONS = {
    "read": Operation(Access.READ, Target.SPACE, READ_ACCESS_DENIED),
    "upload": Operation(Access.WRITE, Target.LOADINGZONE, SAVE_ACCESS_DENIED),
    "upload/main": Operation(Access.WRITE, Target.SPACE, SAVE_ACCESS_DENIED),
    "delete": Operation(Access.DELETE, Target.SPACE, DELETE_ACCESS_DENIED),
}


class _SessionCsrfCheck(CsrfViewMiddleware):
    def _reject(self, request: HttpRequest, reason: str) -> HttpResponse:
        return HttpResponse(status=403)


def _session_passes_csrf(request: HttpRequest) -> bool:
    """A signed-in browser session counts only with a valid CSRF token, as in the DRF API."""
    check = _SessionCsrfCheck(lambda _request: HttpResponse())
    check.process_request(request)
    return check.process_view(request, lambda _request: HttpResponse(), (), {}) is None


def authenticate(request: HttpRequest) -> HttpResponse | None:
    """Who is calling: a bearer JWT (its role claims apply to this request), an API token, or a session.

    Answers 401 with an empty body when nobody is, as AccessManager's Spring Security did.
    """
    header = get_authorization_header(cast(Any, request)).split()
    scheme = header[0].lower() if header else b""
    auth: Any = None
    try:
        if scheme == b"bearer":
            user, auth = authenticate_bearer(header)
        elif scheme == b"token":
            found = ApiTokenAuthentication().authenticate(cast(Any, request))
            if found is None:
                return unauthorized_response()
            user, auth = found
        elif header:
            return unauthorized_response()
        else:
            user = getattr(request, "user", None)
            if user is None or not user.is_authenticated or not _session_passes_csrf(request):
                return unauthorized_response()
    except IssuerUnavailable:
        return error_response(IDENTITY_PROVIDER_UNAVAILABLE, headers={"Retry-After": "30"})
    except exceptions.AuthenticationFailed as exc:
        return unauthorized_response(str(exc.detail), scheme="Token" if scheme == b"token" else "Bearer")
    request.user = user
    request.auth = auth  # type: ignore[attr-defined]
    return None


FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def parameter(request: HttpRequest, name: str) -> str | None:
    """A query or form parameter; repeated values are joined with commas, as Spring binds them.

    Only a form body has parameters (Django parses no other), so a call without one skips the parse.
    """
    values = request.GET.getlist(name)
    if request.content_type in FORM_TYPES:
        values += request.POST.getlist(name)
    return ",".join(values) if values else None


def method_not_allowed(request: HttpRequest) -> HttpResponse:
    return problem_response(
        405, f"Method '{request.method}' is not supported.", request.path, headers={"Allow": "POST"}
    )


def missing(request: HttpRequest, name: str) -> HttpResponse:
    return problem_response(400, f"Required parameter '{name}' is not present.", request.path)


def find_space(organization_name: str, space_name: str, denied: ErrorCode, operation: Operation | None) -> Space:
    """The named space with its organization and connection, in one query.

    An unknown space answers as a forbidden one, so names cannot be probed; only an unknown
    organization says so (AccessManager's 10061). Names are lowercase, so a request in another
    case finds the space and its container rather than failing at the storage.
    """
    organization_name, space_name = organization_name.lower(), space_name.lower()
    space = snapshots.cached(
        "space",
        f"{organization_name}/{space_name}",
        lambda: with_active_connection(
            Space.objects.filter(organization__name=organization_name, name=space_name), secrets=False
        ).first(),
    )
    if space is not None:
        return space
    organization = Organization.objects.filter(name=organization_name).first()
    if organization is None:
        raise CompatError(ORGANIZATION_NOT_FOUND)
    if operation is not None:
        record(
            "credential.refuse",
            organization,
            outcome=AuditEvent.Outcome.DENIED,
            details={"access": operation.access, "target": operation.target, "reason": "no_such_space"},
        )
    raise CompatError(denied)


def _refuse(space: Space, operation: Operation, reason: str) -> None:
    record(
        "credential.refuse",
        space,
        outcome=AuditEvent.Outcome.DENIED,
        details={"access": operation.access, "target": operation.target, "reason": reason},
    )


def _require_azure(context: AccessContext, space: Space, operation: Operation) -> None:
    """AccessManager's SAS endpoints exist only for Azure; other storage answers "no storage account"."""
    connection = active_connection(space.organization)
    if connection is None or descriptor_of(connection.provider).sas_tokens:
        return
    try:
        check_access(context, space, operation.access, operation.target)
    except AccessDenied:
        _refuse(space, operation, f"{operation.access}_denied")
        raise CompatError(operation.denied) from None
    _refuse(space, operation, "not_azure")
    raise CompatError(UNABLE_FIND_ACCOUNT)


def sas_for(request: HttpRequest, operation: Operation, organization_name: str, space_name: str) -> str:
    """The SAS for the caller, from the plan of the same request at this snapshot version if there is one."""
    key = plans.plan_key(
        request.user, getattr(request, "auth", None), organization_name, space_name, operation.access, operation.target
    )
    plan = plans.remembered(key)
    if plan is not None:
        try:
            credential = plans.reissue(plan, request.user)
        except RateLimited as exc:
            raise _too_many(exc) from None
        if credential is not None:
            return str(credential.secret["sas"])
    space = find_space(organization_name, space_name, operation.denied, operation)
    context = access_for(request)
    _require_azure(context, space, operation)
    try:
        issued = issue(context, space, access=operation.access, user=request.user, target=operation.target)
    except AccessDenied:
        raise CompatError(operation.denied) from None
    except RateLimited as exc:
        raise _too_many(exc) from None
    except NotVendable as exc:
        raise CompatError(CONTAINER_NOT_EXISTS if exc.code == NO_CONTAINER else UNABLE_FIND_ACCOUNT) from None
    except DomainError:
        raise CompatError(UNKNOWN_ERROR) from None
    except StorageError as exc:
        raise CompatError(UNKNOWN_ERROR, exc.message) from None
    plans.remember(key, issued, operation.access, operation.target)
    return str(issued.credential.secret["sas"])


def _too_many(exc: RateLimited) -> CompatError:
    return CompatError(
        TOO_MANY_REQUESTS, f"Try again in {exc.retry_after} s.", headers={"Retry-After": str(exc.retry_after)}
    )


@stateless
@csrf_exempt
@snapshots.optimistic
def vend(request: HttpRequest, operation: str) -> HttpResponse:
    """``POST read|upload|upload/main|delete?organization=&space=``: 200 with the bare SAS query string.

    Optimistic: a cached credential's rate limit, audit entry and the check that the access
    snapshots it was decided on are current take one Redis round trip together.
    """
    refused = authenticate(request)
    if refused is not None:
        return refused
    if request.method != "POST":
        return method_not_allowed(request)
    organization_name = parameter(request, "organization")
    if organization_name is None:
        return missing(request, "organization")
    space_name = parameter(request, "space")
    if space_name is None:
        return missing(request, "space")
    try:
        sas = sas_for(request, OPERATIONS[operation], organization_name, space_name)
    except CompatError as exc:
        return error_response(exc.error, exc.extra, exc.headers)
    return token_response(sas, request.headers.get("Accept", ""))


class CommitStarter(Protocol):
    """Starts the move AccessManager's ``commit`` asks for and returns the commit's id.

    The project's URL conf hands in commits' own starter: commits sit above this app, so this app
    names the shape it needs instead of importing them. Refusals are domain errors, told apart by
    their field and code.
    """

    def __call__(self, context: AccessContext, space: Space, *, root_dir: str, user: Any) -> int: ...


def commit_for(
    request: HttpRequest, start: CommitStarter, organization_name: str, space_name: str, root_dir: str
) -> tuple[Space, int]:
    """Start the move, turning Spaceport's refusals into AccessManager-shaped answers."""
    space = find_space(organization_name, space_name, SAVE_ACCESS_DENIED, None)
    try:
        return space, start(access_for(request), space, root_dir=root_dir, user=request.user)
    except AccessDenied:
        raise CompatError(SAVE_ACCESS_DENIED) from None
    except NotVendable:
        raise CompatError(UNABLE_FIND_ACCOUNT) from None
    except DomainError as exc:
        if exc.code == "commit_running":
            raise CompatError(COMMIT_RUNNING, exc.message) from None
        if exc.field == "root_dir":
            error = NOTHING_TO_COMMIT if exc.code == "root_dir_empty" else INVALID_ROOT_DIR
            raise CompatError(error, exc.message) from None
        raise CompatError(UNKNOWN_ERROR, exc.message) from None


@stateless
@csrf_exempt
def commit(request: HttpRequest, *, start: CommitStarter) -> HttpResponse:
    """``POST commit?organization=&space=&rootDir=``: 204 once the move is queued, as AccessManager answered.

    Unlike AccessManager, the objects under ``rootDir/`` in the loadingzone really move into the
    space (``commits``). ``rootDir`` is required: AccessManager's default ``"none"`` would commit a
    directory literally named so. The commit's status URL rides along in ``Location``.
    """
    refused = authenticate(request)
    if refused is not None:
        return refused
    if request.method != "POST":
        return method_not_allowed(request)
    values = {}
    for name in ("organization", "space", "rootDir"):
        value = parameter(request, name)
        if value is None:
            return missing(request, name)
        values[name] = value
    try:
        space, commit_id = commit_for(request, start, values["organization"], values["space"], values["rootDir"])
    except CompatError as exc:
        return error_response(exc.error, exc.extra, exc.headers)
    response = HttpResponse(status=204)
    response["Location"] = reverse("space-commit-detail", args=[space.organization.name, space.name, commit_id])
    for name, value in NO_STORE.items():
        response[name] = value
    return response


@stateless
@csrf_exempt
def unknown(request: HttpRequest, rest: str = "") -> HttpResponse:
    """Any other path under the prefix: 401 for strangers, Spring Boot's 404 body for callers."""
    refused = authenticate(request)
    if refused is not None:
        return refused
    return not_found_response(request.path)
