"""The "My S3 keys" page, and the decisions on key requests from the organization page.

A secret is shown only in the answer to the POST that made it (collecting a request, rotating a
key), never stored in the session or a message, and the page is not cached. The rules are
:mod:`accessgrants.accesskeys`' and :mod:`accessgrants.keyrequests`'.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_POST

from accessgrants import accesskeys, keyrequests
from accessgrants.accesskeys import IssuedKey
from accessgrants.keyforms import DecisionForm, KeyPolicyForm, KeyRequestForm
from accessgrants.models import AccessKey, KeyRequest
from portal.core.errors import DomainError
from portal.tenancy.access import access_for
from portal.tenancy.models import Organization
from portal.tenancy.pages import organization_page, scoped
from portal.tenancy.scoped import AccessScope

KEY_ACTIONS = ("deactivate", "reactivate", "rotate", "delete")


def _render(
    request: HttpRequest, form: KeyRequestForm | None = None, issued: IssuedKey | None = None, status: int = 200
) -> HttpResponse:
    access = access_for(request)
    owner: Any = request.user
    organizations = keyrequests.member_organizations(access)
    form = form or KeyRequestForm(organizations=organizations)
    page: dict[str, Any] = {
        "form": form,
        "organizations": organizations,
        "keys": AccessKey.objects.filter(user=owner).select_related("organization"),
        "key_requests": KeyRequest.objects.filter(requester=owner).select_related("organization", "key"),
        "issued": issued,
        "gateway": settings.SPACEPORT_S3_GATEWAY_URL or "https://<gateway>",
        "limit": settings.SPACEPORT_MAX_ACCESS_KEYS_PER_USER,
    }
    response = render(request, "keys/list.html", page, status=status)
    add_never_cache_headers(response)
    return response


@login_required
@scoped(AccessScope.VISIBLE)
def key_list(request: HttpRequest) -> HttpResponse:
    """The caller's keys and requests; on POST, a new request."""
    if request.method != "POST":
        return _render(request)
    access = access_for(request)
    form = KeyRequestForm(request.POST, organizations=keyrequests.member_organizations(access))
    if form.is_valid():
        try:
            made = keyrequests.request_key(
                access,
                request.user,
                form.cleaned_data["organization"],
                reason=form.cleaned_data["reason"],
                lifetime_days=form.cleaned_data["lifetime_days"],
            )
        except DomainError as error:
            form.add_domain_error(error)
        else:
            if made.status == KeyRequest.Status.APPROVED:
                messages.success(request, "Your key is ready: collect it below, its secret is shown once.")
            else:
                messages.success(request, f"Requested; the admins of {made.organization.name} decide.")
            return redirect("access_keys")
    return _render(request, form, status=400)


@require_POST
@login_required
@scoped(AccessScope.VISIBLE)
def key_request_action(request: HttpRequest, request_id: int, action: str) -> HttpResponse:
    """Collect (the secret, this once) or withdraw one of the caller's own requests."""
    key_request = get_object_or_404(KeyRequest, pk=request_id, requester=request.user)
    access = access_for(request)
    try:
        if action == "collect":
            return _render(request, issued=keyrequests.collect_key(access, request.user, key_request))
        keyrequests.withdraw_request(access, request.user, key_request)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "Request withdrawn.")
    return redirect("access_keys")


@require_POST
@login_required
@scoped(AccessScope.VISIBLE)
def key_action(request: HttpRequest, access_key_id: str, action: str) -> HttpResponse:
    """Deactivate, reactivate, rotate (the successor's secret, this once) or delete one of the caller's keys."""
    key = get_object_or_404(AccessKey, access_key_id=access_key_id, user=request.user)
    try:
        if action == "rotate":
            return _render(request, issued=accesskeys.rotate_key(key.pk))
        if action == "deactivate":
            accesskeys.deactivate_key(key.pk)
        elif action == "reactivate":
            accesskeys.reactivate_key(key.pk)
        else:
            accesskeys.delete_key(key.pk)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"Key {access_key_id}: {action}d." if action != "delete" else "Key deleted.")
    return redirect("access_keys")


@require_POST
@login_required
@organization_page(
    administrators_only=True, message=keyrequests.DECIDERS_ONLY, audit="keyrequest.approve", kwarg="name"
)
def key_request_decide(request: HttpRequest, organization: Organization, request_id: int) -> HttpResponse:
    """Approve or decline a request from the organization page's card."""
    key_request = get_object_or_404(KeyRequest, pk=request_id, organization=organization)
    form = DecisionForm(request.POST)
    access = access_for(request)
    if not form.is_valid():
        messages.error(request, "Choose approve or decline.")
    else:
        reason = form.cleaned_data["reason"]
        try:
            if form.cleaned_data["decision"] == "approve":
                keyrequests.approve_request(access, request.user, key_request, reason=reason)
            else:
                keyrequests.decline_request(access, request.user, key_request, reason=reason)
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, f"Request of {key_request.requester.email} {form.cleaned_data['decision']}d.")
    return redirect(f"/o/{organization.name}/#key-requests")


@require_POST
@login_required
@organization_page(administrators_only=True, audit="keypolicy.update", kwarg="name")
def key_policy_update(request: HttpRequest, organization: Organization) -> HttpResponse:
    """The organization's key policy, from the organization page's card."""
    form = KeyPolicyForm(request.POST, prefix="keypolicy")
    if not form.is_valid():
        messages.error(request, " ".join(str(error) for errors in form.errors.values() for error in errors))
    else:
        try:
            accesskeys.set_key_policy(organization, **form.cleaned_data)
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, "Saved the key policy.")
    return redirect(f"/o/{organization.name}/#key-requests")
