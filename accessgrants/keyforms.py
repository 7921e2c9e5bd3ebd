"""The forms of the key pages; what is allowed is decided by :mod:`accessgrants.keyrequests`."""

from __future__ import annotations

from typing import Any

from django import forms

from portal.tenancy.models import Organization
from portal.web.formkit import DomainForm


class KeyRequestForm(DomainForm):
    organization = forms.ModelChoiceField(
        queryset=Organization.objects.none(), to_field_name="name", empty_label=None, help_text="Where the key works."
    )
    reason = forms.CharField(
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What the key is for; the organization's admins read it.",
    )
    lifetime_days = forms.IntegerField(
        required=False, min_value=1, label="Lifetime in days", help_text="Leave empty for the longest allowed."
    )

    def __init__(self, *args: Any, organizations: list[Organization], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["organization"]
        field.queryset = Organization.objects.filter(pk__in=[org.pk for org in organizations])  # type: ignore[attr-defined]


class DecisionForm(DomainForm):
    decision = forms.ChoiceField(choices=[("approve", "Approve"), ("decline", "Decline")])
    reason = forms.CharField(max_length=1000, required=False)


class KeyPolicyForm(DomainForm):
    approval_required = forms.BooleanField(required=False, label="Keys need an admin's approval")
    max_days = forms.IntegerField(
        required=False, min_value=1, label="Longest lifetime in days", help_text="Empty: the platform's cap."
    )
