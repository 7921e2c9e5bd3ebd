"""Connections in the admin: IT reviewers see status, method and the last report, and can disable one.

The secret never appears: the encrypted field has no form field, and the report and
configuration hold no secret material.
"""

from __future__ import annotations

import json

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from connections import lifecycle
from connections.active import make_active
from connections.models import CloudConnection, GoogleServiceAccount, SpaceStorage
from portal.audit.trail import record


def check_result(check: dict[str, object]) -> str:
    if check.get("skipped"):
        return "skipped"
    if check.get("warning"):
        return "warning"
    return "ok" if check.get("ok") else "FAILED"


@admin.register(CloudConnection)
class CloudConnectionAdmin(admin.ModelAdmin):
    list_display = ("name", "organization", "active", "provider", "method", "status", "validated_at", "created_by")
    list_filter = ("status", "active", "provider", "method")
    search_fields = ("name", "organization__name", "status_message", "external_id")
    list_select_related = ("organization", "created_by")
    actions = ["disable", "revalidate", "serve"]
    readonly_fields = (
        "organization",
        "active",
        "provider",
        "method",
        "configuration",
        "secret_stored",
        "external_id",
        "status",
        "status_message",
        "validated_at",
        "report",
        "created_by",
        "created",
        "modified",
    )
    fields = readonly_fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        """Connections are made in the onboarding wizard or the API, which check every field."""
        return False

    @admin.display(description="Configuration")
    def configuration(self, obj: CloudConnection) -> SafeString:
        return format_html("<pre>{}</pre>", json.dumps(obj.config, indent=2, sort_keys=True))

    @admin.display(description="Secret", boolean=True)
    def secret_stored(self, obj: CloudConnection) -> bool:
        return obj.has_secret

    @admin.display(description="Last validation")
    def report(self, obj: CloudConnection) -> SafeString:
        checks = (obj.validation_report or {}).get("checks", [])
        if not checks:
            return format_html("<em>{}</em>", "Not validated yet")
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    c["operation"],
                    "skipped"
                    if c.get("skipped")
                    else ("warning" if c.get("warning") else ("ok" if c["ok"] else "FAILED")),
                    c["message"],
                    c.get("hint", ""),
                )
                for c in checks
            ),
        )
        return format_html(
            "<table><tr><th>Operation</th><th>Result</th><th>Message</th><th>What to do</th></tr>{}</table>", rows
        )

    @admin.action(description="Disable the selected connections")
    def disable(self, request: HttpRequest, queryset: QuerySet[CloudConnection]) -> None:
        count = 0
        for connection in queryset:
            try:
                lifecycle.disable_connection(connection, f"Disabled in the admin by {request.user}.")
            except lifecycle.LifecycleRefused:
                continue
            count += 1
        self.message_user(request, f"Disabled {count} connection(s).", messages.SUCCESS)

    @admin.action(description="Validate the selected connections again")
    def revalidate(self, request: HttpRequest, queryset: QuerySet[CloudConnection]) -> None:
        count = 0
        for connection in queryset:
            try:
                lifecycle.start_validation(connection)
            except lifecycle.LifecycleRefused:
                continue
            count += 1
        self.message_user(request, f"Started validating {count} connection(s).", messages.SUCCESS)

    @admin.action(description="Serve each organization's spaces from the selected connection")
    def serve(self, request: HttpRequest, queryset: QuerySet[CloudConnection]) -> None:
        """What changing an organization's connection in the admin did when organizations pointed at it."""
        chosen = list(queryset.select_related("organization"))
        if len({connection.organization_id for connection in chosen}) < len(chosen):
            self.message_user(request, "Select at most one connection per organization.", messages.ERROR)
            return
        for connection in chosen:
            make_active(connection)
            record("connection.activate", connection, actor=request.user)
        self.message_user(request, f"{len(chosen)} organization(s) now use the selected connection.", messages.SUCCESS)


class KeptByCodeAdmin(admin.ModelAdmin):
    """Rows Spaceport writes itself: reviewers look at them (and may delete them) but add or edit none."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(GoogleServiceAccount)
class GoogleServiceAccountAdmin(KeptByCodeAdmin):
    """Read-only: an account is given to one organization for good, so nobody re-assigns it by hand."""

    list_display = ("email", "organization", "from_pool", "created")
    list_filter = ("from_pool",)
    search_fields = ("email", "organization__name")


@admin.register(SpaceStorage)
class SpaceStorageAdmin(KeptByCodeAdmin):
    """Read-only: which spaces miss their container and the command that creates it; validating updates it."""

    list_display = ("space", "state", "connection", "checked_at")
    list_filter = ("state",)
    search_fields = ("space__name", "space__organization__name", "message")
    list_select_related = ("space__organization", "connection__organization")
