"""Server-rendered pages: the dashboard, organizations and spaces.

Every object is looked up through the caller's visible querysets, so a page never shows what the
access rules would hide; changes go through the domain functions, which make the final decision.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from portal.core.errors import AccessDenied, DomainError, NotFound
from portal.tenancy.access import access_for
from portal.tenancy.changes import (
    create_organization,
    create_space,
    mark_space_for_deletion,
    update_organization,
    update_space,
)
from portal.tenancy.forms import GrantForm, OrganizationCreateForm, OrganizationForm, SpaceCreateForm, SpaceForm
from portal.tenancy.granting import grant_role, revoke_grant
from portal.tenancy.grants import Grant, Role, Scope
from portal.tenancy.models import Organization, Space, State
from portal.tenancy.pages import organization_page, scoped, space_page
from portal.tenancy.rules import AccessContext
from portal.tenancy.scoped import AccessScope

View = Callable[..., HttpResponse]


def domain_refusals(view: View) -> View:
    """Turn the domain's refusals that no form can show into the matching HTTP answer, in one place."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except AccessDenied as exc:
            raise PermissionDenied(exc.message) from exc
        except NotFound as exc:
            raise Http404(exc.message) from exc

    return wrapped


@dataclass
class SpaceRow:
    space: Space
    roles: list[str]
    access: str


@dataclass
class OrganizationRow:
    organization: Organization
    roles: list[str]
    administers: bool
    spaces: list[SpaceRow] = field(default_factory=list)


def _organization_roles(context: AccessContext, organization: Organization) -> list[str]:
    roles = sorted(context.organization_roles(organization))
    if context.is_owner(organization):
        roles.insert(0, "owner")
    return roles


def _listing_order(row: SpaceRow) -> tuple[bool, str]:
    """Spaces by name, with the loadingzone last: it is where uploads wait, not a use case of its own."""
    return (row.space.is_loadingzone, row.space.name)


def _space_row(context: AccessContext, space: Space) -> SpaceRow:
    return SpaceRow(space=space, roles=sorted(context.space_roles(space)), access=context.effective_access(space))


CHANGE_REFUSAL = "Only the organization's admins and owners may change it."


@login_required
@scoped(AccessScope.VISIBLE)
def dashboard(request: HttpRequest) -> HttpResponse:
    context = access_for(request)
    rows: dict[int, OrganizationRow] = {
        organization.pk: OrganizationRow(
            organization=organization,
            roles=_organization_roles(context, organization),
            administers=context.may_administer(organization),
        )
        for organization in context.visible_organizations()
    }
    for space in context.visible_spaces(Space.objects.select_related("organization")):
        if space.organization_id in rows:
            rows[space.organization_id].spaces.append(_space_row(context, space))
    organizations = list(rows.values())
    for row in organizations:
        row.spaces.sort(key=_listing_order)
    return render(
        request,
        "pages/dashboard.html",
        {
            "organizations": organizations,
            "space_count": sum(len(row.spaces) for row in organizations),
            "may_create_organization": context.may_create_organization(),
            "platform_admin": context.platform_admin,
        },
    )


@login_required
@scoped(AccessScope.PLATFORM)
def organization_create(request: HttpRequest) -> HttpResponse:
    context = access_for(request)
    if not context.may_create_organization():
        raise PermissionDenied("Ask a platform admin for the right to create organizations.")
    form = OrganizationCreateForm(request.POST or None)
    if request.method == "POST":
        organization = form.apply(
            lambda: create_organization(name=form.cleaned_data["name"], owner=request.user, **form.domain_fields())
        )
        if organization is not None:
            messages.success(request, f"Organization {organization.name} created, with its loadingzone.")
            return redirect("organization", name=organization.name)
    status = 400 if form.is_bound else 200
    return render(request, "pages/organization_new.html", {"form": form}, status=status)


def _render_organization(
    request: HttpRequest, organization: Organization, *, status: int = 200, **forms: Any
) -> HttpResponse:
    context = access_for(request)
    administers = context.may_administer(organization)
    spaces = context.visible_spaces(organization.spaces.select_related("organization"))
    page: dict[str, Any] = {
        "organization": organization,
        "roles": _organization_roles(context, organization),
        "administers": administers,
        "spaces": sorted((_space_row(context, space) for space in spaces), key=_listing_order),
        "owners": organization.owners.order_by("email"),
        "shows_people": administers or context.is_member(organization),
    }
    if page["shows_people"]:
        page["grants"] = (
            Grant.objects.filter(organization=organization)
            .select_related("user", "group", "space", "granted_by")
            .order_by("scope", "space__name", "role", "user__email", "group__name")
        )
    if administers:
        page["settings_form"] = forms.get("settings_form") or OrganizationForm.for_organization(organization)
        page["grant_form"] = forms.get("grant_form") or GrantForm(organization=organization)
        if context.may_create_space(organization):
            page["space_form"] = forms.get("space_form") or SpaceCreateForm()
    return render(request, "pages/organization.html", page, status=status)


@login_required
@organization_page()
def organization_detail(request: HttpRequest, organization: Organization) -> HttpResponse:
    return _render_organization(request, organization)


@require_POST
@login_required
@organization_page(administrators_only=True, message=CHANGE_REFUSAL, audit="organization.update")
def organization_update(request: HttpRequest, organization: Organization) -> HttpResponse:
    form = OrganizationForm.for_organization(organization, data=request.POST)
    if form.apply(lambda: update_organization(organization, **form.domain_fields())) is not None:
        messages.success(request, "Organization settings saved.")
        return redirect("organization", name=organization.name)
    organization.refresh_from_db()  # a refused change may have set fields before it was checked
    return _render_organization(request, organization, status=400, settings_form=form)


@require_POST
@login_required
@domain_refusals
@organization_page(administrators_only=True, message=CHANGE_REFUSAL, audit="space.create")
def space_create(request: HttpRequest, organization: Organization) -> HttpResponse:
    form = SpaceCreateForm(request.POST)
    space = form.apply(lambda: create_space(organization, name=form.cleaned_data["name"], **form.domain_fields()))
    if space is not None:
        messages.success(request, f"Space {space.name} created.")
        return redirect("space", organization=organization.name, space=space.name)
    return _render_organization(request, organization, status=400, space_form=form)


@require_POST
@login_required
@domain_refusals
@organization_page(administrators_only=True, message=CHANGE_REFUSAL, audit="grant.create")
def grant_create(request: HttpRequest, organization: Organization) -> HttpResponse:
    context = access_for(request)
    form = GrantForm(request.POST, organization=organization)
    if form.is_valid():
        try:
            grant = grant_role(
                context,
                role=form.cleaned_data["role"],
                scope=form.cleaned_data["scope"],
                user=form.cleaned_data.get("user"),
                group=form.cleaned_data.get("group"),
                organization=organization,
                space=form.cleaned_data.get("space"),
                granted_by=request.user,
            )
        except AccessDenied:
            raise
        except DomainError as exc:
            form.add_domain_error(exc)
        else:
            messages.success(request, f"Granted {grant.role_label} to {grant.principal_label}.")
            return redirect("organization", name=organization.name)
    return _render_organization(request, organization, status=400, grant_form=form)


@require_POST
@login_required
@domain_refusals
@organization_page(administrators_only=True, message=CHANGE_REFUSAL, audit="grant.delete")
def grant_revoke(request: HttpRequest, organization: Organization, grant_id: int) -> HttpResponse:
    context = access_for(request)
    grants = Grant.objects.select_related("user", "group", "space", "organization")
    grant = get_object_or_404(grants, pk=grant_id, organization=organization)
    label = f"{grant.role_label} from {grant.principal_label}"
    revoke_grant(context, grant)
    messages.success(request, f"Revoked {label}.")
    back_to_space = request.POST.get("back_to_space", "")
    if back_to_space and organization.spaces.filter(name=back_to_space).exists():
        return redirect("space", organization=organization.name, space=back_to_space)
    return redirect("organization", name=organization.name)


def _render_space(request: HttpRequest, space: Space, *, status: int = 200, **forms: Any) -> HttpResponse:
    context = access_for(request)
    organization = space.organization
    administers = context.may_administer(organization)
    page: dict[str, Any] = {
        "organization": organization,
        "space": space,
        "row": _space_row(context, space),
        "may_read": context.may_read(space),
        "may_write": context.may_write(space),
        "may_delete": context.may_delete(space),
        "organization_roles": _organization_roles(context, organization),
        "administers": administers,
        "deleted": space.state == State.DELETION,
    }
    if administers:
        page["grants"] = (
            Grant.objects.filter(
                Q(space=space) | Q(scope=Scope.ORGANIZATION, organization=organization, role=Role.TRUSTEE)
            )
            .select_related("user", "group", "space")
            .order_by("scope", "role", "user__email", "group__name")
        )
        if not page["deleted"]:
            page["settings_form"] = forms.get("settings_form") or SpaceForm.for_space(space)
    return render(request, "pages/space.html", page, status=status)


@login_required
@space_page()
def space_detail(request: HttpRequest, space: Space) -> HttpResponse:
    return _render_space(request, space)


@require_POST
@login_required
@space_page(administrators_only=True, message=CHANGE_REFUSAL, audit="space.update")
def space_update(request: HttpRequest, space: Space) -> HttpResponse:
    form = SpaceForm.for_space(space, data=request.POST)
    if form.apply(lambda: update_space(space, **form.domain_fields())) is not None:
        messages.success(request, "Space settings saved.")
        return redirect("space", organization=space.organization.name, space=space.name)
    space.refresh_from_db()  # a refused change may have set fields before it was checked
    return _render_space(request, space, status=400, settings_form=form)


@require_POST
@login_required
@space_page(administrators_only=True, message=CHANGE_REFUSAL, audit="space.delete")
def space_mark_for_deletion(request: HttpRequest, space: Space) -> HttpResponse:
    try:
        mark_space_for_deletion(space)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("space", organization=space.organization.name, space=space.name)
    messages.success(request, f"Space {space.name} is marked for deletion; its data can still be recovered.")
    return redirect("organization", name=space.organization.name)
