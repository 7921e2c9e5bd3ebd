"""The admin site IT reviews: organizations, spaces, tokens, and the read-only audit trail."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse

from portal.audit import journal
from portal.audit.models import AuditEvent
from portal.auth.models import ApiToken
from portal.core.models import OwedTask
from portal.tenancy.models import Organization, Space

admin.site.site_header = "Spaceport administration"
admin.site.site_title = "Spaceport"
admin.site.index_title = "Review"

# Models the installed libraries register that IT has nothing to review in: the schedule kinds behind
# the periodic tasks (the tasks themselves stay), group results, and allauth's social-login records
# (single sign-on is configured from the environment, not from these tables).
NOT_REVIEWED = (
    "django_celery_beat.ClockedSchedule",
    "django_celery_beat.CrontabSchedule",
    "django_celery_beat.IntervalSchedule",
    "django_celery_beat.SolarSchedule",
    "django_celery_results.GroupResult",
    "socialaccount.SocialApp",
    "socialaccount.SocialToken",
    "socialaccount.SocialAccount",
)


def hide_unreviewed_models() -> None:
    """Take the library models IT does not review off the admin index, keeping only what someone looks at."""
    for label in NOT_REVIEWED:
        model = apps.get_model(label)
        if admin.site.is_registered(model):
            admin.site.unregister(model)


hide_unreviewed_models()


class SpaceInline(admin.TabularInline):
    model = Space
    fields = ("name", "display_name", "confidentiality", "state", "retention_days")
    readonly_fields = ("name",)
    extra = 0
    show_change_link = True
    can_delete = False


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ("name", "display_name", "confidentiality", "state", "space_count", "created")
    list_filter = ("confidentiality", "state", "created")
    search_fields = ("name", "display_name", "description", "company")
    filter_horizontal = ("owners",)
    readonly_fields = ("created", "modified")
    inlines = [SpaceInline]
    date_hierarchy = "created"

    @admin.display(description="Spaces")
    def space_count(self, obj: Organization) -> int:
        return obj.spaces.count()

    def get_readonly_fields(self, request: HttpRequest, obj: Organization | None = None) -> tuple[str, ...]:
        """Names are identities in role claims and storage paths; they never change."""
        return (*self.readonly_fields, "name") if obj is not None else tuple(self.readonly_fields)

    def save_model(self, request: HttpRequest, obj: Organization, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        from portal.tenancy.changes import create_organization

        fields = {
            f: form.cleaned_data[f]
            for f in ("display_name", "description", "confidentiality", "state", "tags", "company")
            if f in form.cleaned_data
        }
        created = create_organization(name=obj.name, **fields)
        obj.pk = created.pk
        obj.created = created.created


@admin.register(Space)
class SpaceAdmin(admin.ModelAdmin):
    list_display = ("name", "organization", "confidentiality", "state", "retention_days", "created")
    list_filter = ("confidentiality", "state", "organization")
    search_fields = ("name", "display_name", "description", "organization__name")
    list_select_related = ("organization",)
    readonly_fields = ("created", "modified")
    actions = None

    def get_readonly_fields(self, request: HttpRequest, obj: Space | None = None) -> tuple[str, ...]:
        if obj is None:
            return tuple(self.readonly_fields)
        return (*self.readonly_fields, "name", "organization")

    def has_delete_permission(self, request: HttpRequest, obj: Space | None = None) -> bool:
        """The loadingzone belongs to its organization and goes only with it."""
        if obj is not None and obj.is_loadingzone:
            return False
        return super().has_delete_permission(request, obj)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "user", "key_hint", "created", "expires", "last_used")
    list_filter = ("created", "expires")
    search_fields = ("name", "user__email", "key_hint")
    list_select_related = ("user",)
    readonly_fields = ("user", "name", "key_hint", "created", "expires", "last_used")
    fields = readonly_fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        """A token's key is shown only to its owner, once, when they create it in the API."""
        return False


@admin.register(OwedTask)
class OwedTaskAdmin(admin.ModelAdmin):
    """Work asked for while the broker was away, until beat's sweep hands it over: read-only, since
    editing a task's arguments could aim the work elsewhere."""

    list_display = ("task", "args", "created", "attempts", "error")
    search_fields = ("task",)
    readonly_fields = [field.name for field in OwedTask._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: OwedTask | None = None) -> bool:
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ("time", "actor_label", "action", "target_label", "organization_name", "outcome", "ip_address")
    list_filter = ("outcome", "action", "target_type", "time")
    search_fields = ("actor_label", "action", "target_label", "organization_name", "request_id", "target_id")
    date_hierarchy = "time"
    readonly_fields = [field.name for field in AuditEvent._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: AuditEvent | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: AuditEvent | None = None) -> bool:
        return False

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        """Journaled events (credential requests) are copied in first, so the list is complete up to now."""
        journal.drain()
        return super().changelist_view(request, extra_context)

    def get_queryset(self, request: HttpRequest) -> QuerySet[AuditEvent]:
        return super().get_queryset(request).select_related("actor", "organization")
