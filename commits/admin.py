"""Commits in the admin, read-only: what moved, what did not and why; webhooks with their secret hidden."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from commits.models import Commit, CommitItem, OrganizationWebhook, WebhookDelivery
from commits.webhooks import check_url
from portal.core.errors import DomainError


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ProblemItemInline(admin.TabularInline):
    """The objects that need a look (conflicts and failures); the full list is under commit items."""

    model = CommitItem
    fields = ("key", "size", "state", "attempts", "error")
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False
    verbose_name_plural = "Conflicts and failures"

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).filter(state__in=["conflict", "failed"])


@admin.register(Commit)
class CommitAdmin(ReadOnlyAdmin):
    list_display = ("id", "organization", "space", "root_dir", "state", "progress", "user_label", "created", "finished")
    list_filter = ("state", "origin", "organization")
    search_fields = ("root_dir", "user_label", "organization__name", "space__name")
    list_select_related = ("organization", "space")
    readonly_fields = [field.name for field in Commit._meta.fields] + ["items_link"]
    inlines = [ProblemItemInline]

    @admin.display(description="Progress")
    def progress(self, commit: Commit) -> str:
        return (
            f"{commit.done_count}/{commit.total} (moved {commit.moved}, skipped {commit.skipped}, "
            f"failed {commit.failed}, conflicts {commit.conflicts})"
        )

    @admin.display(description="Objects")
    def items_link(self, commit: Commit) -> str:
        url = reverse("admin:commits_commititem_changelist") + f"?commit__id__exact={commit.pk}"
        return format_html('<a href="{}">All {} objects</a>', url, commit.total)


@admin.register(CommitItem)
class CommitItemAdmin(ReadOnlyAdmin):
    list_display = ("key", "commit", "size", "state", "copied", "attempts", "error", "updated")
    list_filter = ("state",)
    search_fields = ("key",)
    list_select_related = ("commit", "commit__organization", "commit__space")
    readonly_fields = [field.name for field in CommitItem._meta.fields]


class OrganizationWebhookForm(forms.ModelForm):
    """The admin checks a webhook's URL as the API and the page do (the outbound address policy)."""

    url = forms.URLField(max_length=2000, assume_scheme="https")

    class Meta:
        model = OrganizationWebhook
        fields = ("organization", "url", "enabled")

    def clean_url(self) -> str:
        url = str(self.cleaned_data["url"])
        try:
            check_url(url)
        except DomainError as exc:
            raise forms.ValidationError(exc.message, code=exc.code) from None
        return url


@admin.register(OrganizationWebhook)
class OrganizationWebhookAdmin(admin.ModelAdmin):
    form = OrganizationWebhookForm
    list_display = ("organization", "url", "enabled", "has_secret", "modified")
    fields = ("organization", "url", "enabled", "secret_stored", "created", "modified")
    readonly_fields = ("secret_stored", "created", "modified")

    @admin.display(description="Secret", boolean=True)
    def secret_stored(self, hook: OrganizationWebhook) -> bool:
        return hook.has_secret


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = ("event", "organization", "commit", "state", "attempts", "response_status", "created", "delivered")
    list_filter = ("state", "event")
    readonly_fields = [field.name for field in WebhookDelivery._meta.fields]
