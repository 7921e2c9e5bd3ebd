"""Grants in the admin: who holds which role where, and where it came from; identity policies are in
:mod:`accessgrants.policyadmin`, registered by importing it here."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from accessgrants.policyadmin import IdentityPolicyAdmin
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
