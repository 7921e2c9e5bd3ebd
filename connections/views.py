"""The onboarding wizard: choose the cloud and the method, prepare the cloud side, enter the details,
and watch the validation; the same pages edit, disable and enable a connection later.

Every step has its own URL, so back, forward and reload work, and the draft row keeps what was
chosen. Only an organization's owners and admins reach these pages: the organization is looked up
through the caller's visible organizations (404 otherwise), then administration is required (403):
:func:`portal.tenancy.pages.organization_page` applies that rule and records refused changes.
Whether a connection's state allows a change is decided in :mod:`connections.lifecycle`; a refusal
is shown as a message on the connection's page, and nothing changes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods, require_POST

from connections import instructions, lifecycle
from connections.active import active_connection_id
from connections.clouds import cloud_of, clouds
from connections.drafts import discard_draft, start_draft
from connections.forms import BoundedUploadHandler, ConnectionDetailsForm
from connections.lifecycle import LifecycleRefused
from connections.models import CloudConnection, Status
from connections.providers.registry import all_specs
from connections.providers.spec import ConnectionInputError
from connections.report import report_of
from connections.revocation import revocability
from portal.tenancy.models import Organization
from portal.tenancy.pages import organization_page, scoped
from portal.tenancy.scoped import AccessScope

MANAGERS_ONLY = "Only the organization's owners and admins may manage its storage connections."
managed = organization_page(administrators_only=True, message=MANAGERS_ONLY)


def _connection(organization: Organization, connection: str) -> CloudConnection:
    found = get_object_or_404(organization.connections, name=connection)
    found.organization = organization
    return found


def _refused(request: HttpRequest, target: CloudConnection, refusal: LifecycleRefused) -> HttpResponse:
    """A transition the connection's state does not allow: say why on its page."""
    messages.error(request, refusal.message)
    if refusal.code == "draft_incomplete":
        return redirect("connection_details", name=target.organization.name, connection=target.name)
    return redirect("connection", name=target.organization.name, connection=target.name)


ConnectionView = Callable[[HttpRequest, Organization, CloudConnection], HttpResponse]


def connection_page(view: ConnectionView) -> Callable[..., HttpResponse]:
    """A page about one of the organization's connections, for its managers: the connection named in
    the URL is looked up (404 otherwise), and a change its state refuses is said on its page."""

    @wraps(view)
    def page(request: HttpRequest, organization: Organization, connection: str) -> HttpResponse:
        target = _connection(organization, connection)
        try:
            return view(request, organization, target)
        except LifecycleRefused as refusal:
            return _refused(request, target, refusal)

    return login_required(managed(page))


def _at(target: CloudConnection) -> HttpResponse:
    return redirect("connection", name=target.organization.name, connection=target.name)


def _input_refused(request: HttpRequest, exc: ConnectionInputError) -> None:
    messages.error(request, " ".join(exc.errors.values()))


STEPS = (
    ("cloud", "Cloud"),
    ("method", "Method"),
    ("setup", "On your cloud"),
    ("details", "Details"),
    ("validate", "Validation"),
)


@dataclass(frozen=True)
class Step:
    number: int
    label: str
    state: str
    url: str = ""


def _steps(organization: Organization, current: str, connection: CloudConnection | None = None) -> list[Step]:
    """The wizard's progress; cloud and method stay fixed once a connection left the draft stage."""
    keys = [key for key, _ in STEPS]
    position = keys.index(current)
    urls: dict[str, str] = {"cloud": reverse("connection_new", args=[organization.name])}
    if connection is not None:
        args = [organization.name, connection.name]
        urls |= {
            "method": reverse("connection_new_method", args=[organization.name, connection.provider]),
            "setup": reverse("connection_setup", args=args),
            "details": reverse("connection_details", args=args),
            "validate": reverse("connection", args=args),
        }
        if connection.status != Status.DRAFT:
            del urls["cloud"], urls["method"]
    steps = []
    for index, (key, label) in enumerate(STEPS):
        state = "done" if index < position else "current" if index == position else "upcoming"
        steps.append(Step(index + 1, label, state, "" if index == position else urls.get(key, "")))
    return steps


def _page(connection: CloudConnection, step: str, **extra: Any) -> dict[str, Any]:
    return {
        "organization": connection.organization,
        "connection": connection,
        "spec": connection.spec,
        "cloud": cloud_of(connection.provider),
        "steps": _steps(connection.organization, step, connection),
        "is_draft": connection.status == Status.DRAFT,
        **extra,
    }


@login_required
@managed
def connection_list(request: HttpRequest, organization: Organization) -> HttpResponse:
    connections = organization.connections.order_by("name")
    return render(
        request,
        "connections/list.html",
        {"organization": organization, "connections": connections, "primary_id": active_connection_id(organization)},
    )


@login_required
@managed
def choose_cloud(request: HttpRequest, organization: Organization) -> HttpResponse:
    page = {"organization": organization, "clouds": clouds(), "steps": _steps(organization, "cloud")}
    return render(request, "connections/cloud.html", page)


@require_http_methods(["GET", "POST"])
@login_required
@managed
def choose_method(request: HttpRequest, organization: Organization, provider: str) -> HttpResponse:
    cloud = cloud_of(provider)
    if cloud is None:
        raise Http404("No such cloud.")
    if request.method == "POST":
        method = request.POST.get("method", "")
        specs = all_specs()
        if method not in specs or specs[method].provider != cloud.provider:
            messages.error(request, "Choose one of the methods below.")
        else:
            try:
                draft = start_draft(organization, method, created_by=request.user)
            except ConnectionInputError as exc:
                _input_refused(request, exc)
            else:
                return redirect("connection_setup", name=organization.name, connection=draft.name)
    page = {
        "organization": organization,
        "cloud": cloud,
        "methods": cloud.methods,
        "steps": _steps(organization, "method"),
    }
    return render(request, "connections/method.html", page, status=400 if request.method == "POST" else 200)


@connection_page
def cloud_setup(request: HttpRequest, organization: Organization, target: CloudConnection) -> HttpResponse:
    steps = instructions.for_connection(target)
    placeholder = any(instructions.PLACEHOLDER_BUCKET in step.body for step in steps)
    page = _page(
        target,
        "setup",
        instructions=steps,
        has_placeholder=placeholder,
        identity=instructions.spaceport_identity(target),
        identity_missing=any(instructions.identity_placeholder(step.body) for step in steps),
        unset_operator_settings=instructions.unset_operator_settings(target, steps),
    )
    return render(request, "connections/setup.html", page)


@csrf_exempt
@scoped(AccessScope.ORGANIZATION)
def details(request: HttpRequest, name: str, connection: str) -> HttpResponse:
    """Bounded uploads must be in place before anything, the CSRF check included, reads the body;
    ``_details`` then applies the organization's rule like every other page here."""
    if request.method == "POST":
        request.upload_handlers = [BoundedUploadHandler(request)]
    return _details(request, name=name, connection=connection)


@csrf_protect
@require_http_methods(["GET", "POST"])
@connection_page
def _details(request: HttpRequest, organization: Organization, target: CloudConnection) -> HttpResponse:
    lifecycle.check_editable(target)
    if request.method != "POST":
        form = ConnectionDetailsForm(connection=target)
        return render(request, "connections/details.html", _page(target, "details", form=form))
    form = ConnectionDetailsForm(request.POST, request.FILES, connection=target)
    if form.is_valid():
        try:
            lifecycle.update_connection(target, values=form.values(), name=form.cleaned_data["name"], validate=True)
        except ConnectionInputError as exc:
            form.add_input_error(exc)
        else:
            return _at(target)
    target.refresh_from_db()
    return render(request, "connections/details.html", _page(target, "details", form=form), status=400)


@connection_page
def status(request: HttpRequest, organization: Organization, target: CloudConnection) -> HttpResponse:
    page = _page(target, "validate", report=report_of(target), connection_settings=_settings_of(target))
    return render(request, "connections/status.html", page)


@connection_page
def report(request: HttpRequest, organization: Organization, target: CloudConnection) -> HttpResponse:
    """The live part of the status page; htmx asks for it every second while a run is under way."""
    page = _page(target, "validate", report=report_of(target), swap_badge=request.headers.get("HX-Request") == "true")
    return render(request, "connections/_report.html", page)


def _settings_of(connection: CloudConnection) -> list[tuple[str, Any]]:
    """The non-secret settings by their labels, and only the fact that each secret is stored."""
    config = connection.config or {}
    stored = set(connection.secret_field_names)
    rows: list[tuple[str, Any]] = []
    for item in connection.spec.fields:
        if item.secret:
            if item.name in stored:
                rows.append((item.label, None))
        elif item.kind == "file":
            if item.name in config:
                rows.append((item.label, "Uploaded"))
        elif item.kind == "bool":
            rows.append((item.label, "Yes" if config.get(item.name, item.default) else "No"))
        elif config.get(item.name) not in (None, ""):
            rows.append((item.label, config[item.name]))
    return rows


@require_POST
@connection_page
def validate_again(request: HttpRequest, organization: Organization, target: CloudConnection) -> HttpResponse:
    try:
        lifecycle.start_validation(target)
    except ConnectionInputError as exc:
        _input_refused(request, exc)
        if target.status == Status.DRAFT:
            return redirect("connection_details", name=organization.name, connection=target.name)
    return _at(target)


@require_http_methods(["GET", "POST"])
@connection_page
def disable(request: HttpRequest, organization: Organization, target: CloudConnection) -> HttpResponse:
    """GET asks for confirmation, saying what disabling revokes and what stays valid until it expires."""
    outcome = revocability(target)
    if request.method != "POST":
        return render(request, "connections/disable.html", _page(target, "validate", revocability=outcome))
    lifecycle.disable_connection(target, f"Disabled by {request.user}.")
    said = "Spaceport no longer uses it" + (
        "; the tokens it issued are being revoked." if outcome.revoked_at_once else "."
    )
    messages.success(request, f"Connection {target.name} is disabled: {said}")
    if not outcome.revoked_at_once:
        messages.warning(request, outcome.summary)
    return _at(target)


@require_POST
@connection_page
def enable(request: HttpRequest, organization: Organization, target: CloudConnection) -> HttpResponse:
    try:
        lifecycle.enable_connection(target)
    except ConnectionInputError as exc:
        _input_refused(request, exc)
        return _at(target)
    messages.success(request, f"Connection {target.name} is enabled and being validated again.")
    return _at(target)


@require_POST
@connection_page
def discard(request: HttpRequest, organization: Organization, target: CloudConnection) -> HttpResponse:
    try:
        discard_draft(target)
    except ConnectionInputError as exc:
        _input_refused(request, exc)
        return _at(target)
    messages.success(request, f"Draft {target.name} discarded.")
    return redirect("connection_list", name=organization.name)
