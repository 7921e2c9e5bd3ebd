"""The policy pages: the organization's policies, the editor, and the simulator.

For the organization's owners and admins (and platform admins), like the API; every change goes
through :mod:`accessgrants.identitypolicies` and every question through :mod:`accessgrants.simulation`.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import Group
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accessgrants import identitypolicies
from accessgrants.models import IdentityPolicy
from accessgrants.policies.buckets import bucket_name
from accessgrants.policyforms import AttachmentForm, PolicyForm, SimulationForm, SpaceTableForm
from accessgrants.simulation import simulate, space_table
from portal.core.errors import DomainError
from portal.tenancy.access import access_for
from portal.tenancy.models import Organization
from portal.tenancy.pages import organization_page

POLICY_REFUSAL = "Only the organization's owners and admins may manage its identity policies."
NEW_POLICY = {"Version": "2012-10-17", "Statement": [{"Sid": "", "Effect": "Allow", "Action": [], "Resource": []}]}


def _policy(organization: Organization, name: str) -> IdentityPolicy:
    policies = IdentityPolicy.objects.prefetch_related("attachments__user", "attachments__group")
    return get_object_or_404(policies, organization=organization, name=name)


def _example(organization: Organization) -> str:
    space = organization.spaces.exclude(name="loadingzone").order_by("name").first()
    bucket = bucket_name(organization.name, space.name) if space is not None else f"{organization.name}-<space>"
    return (
        '{\n  "Version": "2012-10-17",\n  "Statement": [\n    {"Sid": "ReadSpace", "Effect": "Allow",\n'
        f'     "Action": ["s3:Get*", "s3:ListBucket"],\n     "Resource": ["{bucket}", "{bucket}/*"]}}\n  ]\n}}'
    )


@login_required
@organization_page(administrators_only=True, message=POLICY_REFUSAL, audit="identitypolicy.create")
def policy_list(request: HttpRequest, organization: Organization) -> HttpResponse:
    form = PolicyForm(request.POST or None, initial={"document": _example(organization)})
    if request.method == "POST" and form.is_valid():
        try:
            policy = identitypolicies.create_policy(organization, created_by=request.user, **form.cleaned_data)
        except DomainError as error:
            form.add_domain_error(error)
        else:
            messages.success(request, f"Created the policy {policy.name}.")
            return redirect("policy", name=organization.name, policy=policy.name)
    policies = IdentityPolicy.objects.filter(organization=organization).prefetch_related("attachments")
    context = {"organization": organization, "policies": policies, "form": form}
    return render(request, "policies/list.html", context, status=400 if form.errors else 200)


@login_required
@organization_page(administrators_only=True, message=POLICY_REFUSAL, audit="identitypolicy.update")
def policy_detail(request: HttpRequest, organization: Organization, policy: str) -> HttpResponse:
    found = _policy(organization, policy)
    form = PolicyForm(request.POST or None, initial=PolicyForm.initial_for(found))
    if request.method == "POST" and form.is_valid():
        try:
            identitypolicies.update_policy(found, **form.cleaned_data)
        except DomainError as error:
            form.add_domain_error(error)
        else:
            messages.success(request, f"Saved the policy {found.name} (version {found.version}).")
            return redirect("policy", name=organization.name, policy=found.name)
    return _render_detail(request, organization, found, form=form, status=400 if form.errors else 200)


def _render_detail(
    request: HttpRequest, organization: Organization, policy: IdentityPolicy, *, status: int = 200, **forms: Any
) -> HttpResponse:
    context = {
        "organization": organization,
        "policy": policy,
        "form": forms.get("form") or PolicyForm(initial=PolicyForm.initial_for(policy)),
        "attach_form": forms.get("attach_form") or AttachmentForm(),
        "attachments": policy.attachments.select_related("user", "group"),
    }
    return render(request, "policies/detail.html", context, status=status)


def _principal(form: AttachmentForm) -> dict[str, Any]:
    """The user or group the form names, as keyword arguments for attach and detach."""
    email, group_name = form.cleaned_data.get("user"), form.cleaned_data.get("group")
    if email:
        user = get_user_model()._default_manager.filter(email__iexact=email, is_active=True).first()
        if user is None:
            raise DomainError("user", f"No active user has the e-mail address {email}.")
        return {"user": user}
    if group_name:
        group = Group.objects.filter(name=group_name).first()
        if group is None:
            raise DomainError("group", f"No group is named {group_name}.")
        return {"group": group}
    raise DomainError("user", "Name one user or one group.")


@require_POST
@login_required
@organization_page(administrators_only=True, message=POLICY_REFUSAL, audit="identitypolicy.attach")
def policy_attach(request: HttpRequest, organization: Organization, policy: str) -> HttpResponse:
    found = _policy(organization, policy)
    form = AttachmentForm(request.POST)
    if form.is_valid():
        try:
            identitypolicies.attach(found, attached_by=request.user, **_principal(form))
        except DomainError as error:
            form.add_domain_error(error)
        else:
            messages.success(request, f"Attached {found.name}.")
            return redirect("policy", name=organization.name, policy=found.name)
    return _render_detail(request, organization, found, attach_form=form, status=400)


@require_POST
@login_required
@organization_page(administrators_only=True, message=POLICY_REFUSAL, audit="identitypolicy.detach")
def policy_detach(request: HttpRequest, organization: Organization, policy: str) -> HttpResponse:
    found = _policy(organization, policy)
    form = AttachmentForm(request.POST)
    if form.is_valid():
        try:
            identitypolicies.detach(found, **_principal(form))
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, f"Detached {found.name}.")
    return redirect("policy", name=organization.name, policy=found.name)


@require_POST
@login_required
@organization_page(administrators_only=True, message=POLICY_REFUSAL, audit="identitypolicy.delete")
def policy_delete(request: HttpRequest, organization: Organization, policy: str) -> HttpResponse:
    found = _policy(organization, policy)
    identitypolicies.delete_policy(found)
    messages.success(request, f"Deleted the policy {policy}.")
    return redirect("policies", name=organization.name)


def _subject(form: SimulationForm | SpaceTableForm) -> Any:
    """The person the form names; ``None`` when it names an access key instead."""
    if form.cleaned_data["access_key"]:
        return None
    user = get_user_model()._default_manager.filter(email__iexact=form.cleaned_data["user"]).first()
    if user is None:
        raise DomainError("user", f"No user has the e-mail address {form.cleaned_data['user']}.")
    return user


@login_required
@organization_page(administrators_only=True, message=POLICY_REFUSAL, audit="policy.simulate")
def simulator(request: HttpRequest, organization: Organization) -> HttpResponse:
    """Both questions are reads, asked with GET, so a result has an address that can be shared."""
    platform_admin = access_for(request).platform_admin
    spaces = list(organization.spaces.order_by("name").values_list("name", flat=True))
    asks_one = "action" in request.GET
    asks_table = "table-user" in request.GET or "table-access_key" in request.GET
    form = SimulationForm(request.GET if asks_one else None, initial={"secure": True})
    table_form = SpaceTableForm(
        request.GET if asks_table else None, spaces=spaces, initial={"key": "*"}, prefix="table"
    )
    decision = table = table_space = None
    if asks_one and form.is_valid():
        fields = form.cleaned_data
        try:
            decision = simulate(
                organization,
                _subject(form),
                fields["action"],
                fields["resource"],
                platform_admin=platform_admin,
                access_key=fields["access_key"] or None,
                source_ip=fields.get("source_ip") or None,
                when=fields.get("time"),
                secure=fields["secure"],
            )
        except DomainError as error:
            form.add_domain_error(error)
    if asks_table and table_form.is_valid():
        fields = table_form.cleaned_data
        try:
            table_space, table = space_table(
                organization,
                _subject(table_form),
                fields["space"],
                platform_admin=platform_admin,
                key=fields["key"],
                access_key=fields["access_key"] or None,
            )
        except DomainError as error:
            table_form.add_domain_error(error)
    context = {
        "organization": organization,
        "form": form,
        "table_form": table_form,
        "decision": decision,
        "table": table,
        "table_space": table_space,
    }
    return render(request, "policies/simulator.html", context)
