"""Identity policies in the admin, checked by the same functions as the API before anything is saved."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from accessgrants.identitypolicies import check_attachable, check_document, check_name
from accessgrants.models import IdentityPolicy, PolicyAttachment
from portal.core.errors import DomainError


class IdentityPolicyForm(forms.ModelForm):
    """The document is edited as JSON text, so a syntax error is reported with its line and column."""

    document = forms.CharField(widget=forms.Textarea(attrs={"rows": 24, "cols": 100, "spellcheck": "false"}))

    class Meta:
        model = IdentityPolicy
        fields = ["organization", "name", "description", "document"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.initial["document"] = json.dumps(self.instance.document, indent=2)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        organization = cleaned.get("organization")
        if organization is None or self.errors:
            return cleaned
        try:
            check_name(organization, cleaned.get("name", ""), exclude=self.instance if self.instance.pk else None)
            cleaned["document"] = check_document(organization, cleaned.get("document", ""), name=cleaned["name"])
        except DomainError as error:
            self.add_error(error.field, error.message)
        return cleaned


class PolicyAttachmentForm(forms.ModelForm):
    class Meta:
        model = PolicyAttachment
        fields = ["user", "group"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        policy = self.instance.policy if self.instance.policy_id or hasattr(self.instance, "policy") else None
        if policy is None or policy.organization_id is None or self.errors:
            return cleaned
        try:
            check_attachable(policy, user=cleaned.get("user"), group=cleaned.get("group"))
        except DomainError as error:
            self.add_error(error.field if error.field in ("user", "group") else None, error.message)
        return cleaned


class PolicyAttachmentInline(admin.TabularInline):
    model = PolicyAttachment
    form = PolicyAttachmentForm
    extra = 0
    autocomplete_fields = ("user", "group")
    readonly_fields = ("attached_by", "created")


@admin.register(IdentityPolicy)
class IdentityPolicyAdmin(admin.ModelAdmin):
    form = IdentityPolicyForm
    inlines = [PolicyAttachmentInline]
    list_display = ("name", "organization", "version", "modified", "created_by")
    list_filter = ("organization",)
    search_fields = ("name", "description", "organization__name")
    list_select_related = ("organization", "created_by")
    readonly_fields = ("version", "created", "modified", "created_by")

    def save_model(self, request: HttpRequest, obj: IdentityPolicy, form: Any, change: bool) -> None:
        if change:
            stored = IdentityPolicy.objects.filter(pk=obj.pk).values_list("document", flat=True).first()
            if stored != obj.document:
                obj.version += 1
        elif request.user.is_authenticated:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        attachments = formset.save(commit=False)
        for attachment in attachments:
            if attachment.pk is None and request.user.is_authenticated:
                attachment.attached_by = request.user
            attachment.save()
        for removed in formset.deleted_objects:
            removed.delete()
        formset.save_m2m()
