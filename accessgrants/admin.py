"""Grants, access keys and key requests in the admin: who holds which role or key where; identity policies are in
:mod:`accessgrants.policyadmin`, registered by importing it here."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.db.models import QuerySet
from django.http import HttpRequest

from accessgrants import keyrequests
from accessgrants.models import AccessKey, KeyPolicy, KeyRequest
from accessgrants.policyadmin import IdentityPolicyAdmin
from portal.core.errors import DomainError
from portal.tenancy.access import access_for
from portal.tenancy.grants import Grant

__all__ = ["GrantAdmin", "IdentityPolicyAdmin"]


@admin.register(Grant)
class GrantAdmin(admin.ModelAdmin):
    list_display = ("principal", "scope", "role", "organization", "space", "source", "granted_by", "created")
    list_filter = ("scope", "role", "source", "organization")
    search_fields = ("user__email", "user__username", "group__name", "organization__name", "space__name")
    list_select_related = ("user", "group", "organization", "space", "space__organization", "granted_by")
    autocomplete_fields = ("user", "group", "organization", "space")
    readonly_fields = ("granted_by", "created")

    @admin.display(description="Granted to")
    def principal(self, obj: Grant) -> str:
        return obj.principal_label

    def save_model(self, request: HttpRequest, obj: Grant, form: Any, change: bool) -> None:
        if obj.space_id and not obj.organization_id:
            obj.organization = obj.space.organization  # type: ignore[union-attr]
        if not change and request.user.is_authenticated:
            obj.granted_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(KeyPolicy)
class KeyPolicyAdmin(admin.ModelAdmin):
    list_display = ("organization", "approval_required", "max_days")
    autocomplete_fields = ("organization",)


@admin.register(AccessKey)
class AccessKeyAdmin(admin.ModelAdmin):
    """Keys are made and changed through the API and pages, which audit every change and show the secret
    once; here they are only looked at, and the secret column is never among the fields."""

    list_display = ("access_key_id", "user", "organization", "status", "created", "expires", "last_used")
    list_filter = ("status", "organization")
    search_fields = ("access_key_id", "user__email", "organization__name", "description")
    list_select_related = ("user", "organization")
    fields = ("access_key_id", "user", "organization", "description", "status", "created", "expires", "last_used")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


class DecisionActionForm(ActionForm):
    reason = forms.CharField(required=False, label="Reason", help_text="Needed to decline; the requester reads it.")


def _decide(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[KeyRequest], verb: str) -> None:
    """Each selected request through the same rules as the pages; one that cannot be decided says why."""
    access = access_for(request)
    reason = str(request.POST.get("reason", ""))
    decide = keyrequests.approve_request if verb == "approve" else keyrequests.decline_request
    done = 0
    for key_request in queryset.select_related("organization", "requester"):
        try:
            decide(access, request.user, key_request, reason=reason)
        except DomainError as error:
            modeladmin.message_user(request, f"{key_request}: {error.message}", level=messages.ERROR)
        else:
            done += 1
    if done:
        modeladmin.message_user(request, f"{verb.capitalize()}d {done} request(s); the requesters were e-mailed.")


@admin.action(description="Approve the selected requests")
def approve_requests(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[KeyRequest]) -> None:
    _decide(modeladmin, request, queryset, "approve")


@admin.action(description="Decline the selected requests (with the reason)")
def decline_requests(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[KeyRequest]) -> None:
    _decide(modeladmin, request, queryset, "decline")


@admin.register(KeyRequest)
class KeyRequestAdmin(admin.ModelAdmin):
    action_form = DecisionActionForm
    actions = [approve_requests, decline_requests]
    list_display = ("organization", "requester", "status", "created", "decided_by", "decided_at")
    list_filter = ("status", "organization")
    search_fields = ("requester__email", "organization__name", "reason")
    list_select_related = ("requester", "organization", "decided_by")
    fields = (
        "requester",
        "organization",
        "reason",
        "lifetime_days",
        "created",
        "decided_by",
        "decided_at",
        "key",
        "status",
        "decision_reason",
    )
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
