"""Forms for the pages; they validate input and hand it to the domain functions, which decide."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError

from portal.tenancy.grants import Role, Scope
from portal.tenancy.models import Confidentiality, Organization, Space, State
from portal.web.formkit import DomainForm

EDITABLE_STATES = [(value, label) for value, label in State.choices if value != State.DELETION]
RESERVED_PAGE_NAMES = frozenset({"new"})


def _tags(value: str) -> list[str]:
    return [tag.strip() for tag in value.split(",") if tag.strip()]


class OrganizationCreateForm(DomainForm):
    name = forms.CharField(
        max_length=24,
        help_text="3 to 24 lowercase letters and digits. It names the storage and the roles, so it cannot change.",
    )
    display_name = forms.CharField(max_length=200, required=False)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=4000)
    confidentiality = forms.ChoiceField(choices=Confidentiality.choices, initial=Confidentiality.INTERNAL)

    def clean_name(self) -> str:
        """``new`` would be hidden behind the page that creates organizations."""
        name: str = self.cleaned_data["name"]
        if name in RESERVED_PAGE_NAMES:
            raise ValidationError(f"{name!r} is reserved; choose another name.")
        return name

    def domain_fields(self) -> dict[str, Any]:
        return {key: self.cleaned_data[key] for key in ("display_name", "description", "confidentiality")}


class OrganizationForm(DomainForm):
    display_name = forms.CharField(max_length=200, required=False)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=4000)
    confidentiality = forms.ChoiceField(choices=Confidentiality.choices)
    state = forms.ChoiceField(choices=EDITABLE_STATES, help_text="Closed and locked organizations keep data read-only.")
    tags = forms.CharField(required=False, max_length=1000, help_text="Comma-separated.")

    @classmethod
    def for_organization(cls, organization: Organization, data: Any = None) -> OrganizationForm:
        initial = {
            "display_name": organization.display_name,
            "description": organization.description,
            "confidentiality": organization.confidentiality,
            "state": organization.state,
            "tags": ", ".join(str(tag) for tag in organization.tags or []),
        }
        return cls(data=data, initial=initial, prefix="organization")

    def domain_fields(self) -> dict[str, Any]:
        fields = {key: self.cleaned_data[key] for key in ("display_name", "description", "confidentiality", "state")}
        fields["tags"] = _tags(self.cleaned_data["tags"])
        return fields


class SpaceCreateForm(DomainForm):
    field_aliases = {"__all__": "name"}

    name = forms.CharField(
        max_length=63,
        help_text=(
            "3 to 63 lowercase letters, digits and single hyphens, starting and ending with a letter or digit. "
            "It cannot change later."
        ),
    )
    display_name = forms.CharField(max_length=200, required=False)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=4000)
    confidentiality = forms.ChoiceField(choices=Confidentiality.choices, initial=Confidentiality.INTERNAL)
    retention_days = forms.IntegerField(
        min_value=0, initial=365, label="Retention (days)", help_text="0 keeps data forever."
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "space")
        super().__init__(*args, **kwargs)

    def domain_fields(self) -> dict[str, Any]:
        keys = ("display_name", "description", "confidentiality", "retention_days")
        return {key: self.cleaned_data[key] for key in keys}


class SpaceForm(DomainForm):
    display_name = forms.CharField(max_length=200, required=False)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=4000)
    confidentiality = forms.ChoiceField(choices=Confidentiality.choices)
    state = forms.ChoiceField(choices=EDITABLE_STATES, help_text="Closed and locked spaces keep data read-only.")
    retention_days = forms.IntegerField(min_value=0, label="Retention (days)", help_text="0 keeps data forever.")

    @classmethod
    def for_space(cls, space: Space, data: Any = None) -> SpaceForm:
        initial = {
            "display_name": space.display_name,
            "description": space.description,
            "confidentiality": space.confidentiality,
            "state": space.state,
            "retention_days": space.retention_days,
        }
        return cls(data=data, initial=initial, prefix="space")

    def domain_fields(self) -> dict[str, Any]:
        keys = ("display_name", "description", "confidentiality", "state", "retention_days")
        return {key: self.cleaned_data[key] for key in keys}


class SpaceChoiceField(forms.ModelChoiceField):
    """Lists spaces by their own name: the organization is already known from the page."""

    def label_from_instance(self, obj: Any) -> str:
        return str(obj.name)


class GrantForm(DomainForm):
    """Give a user (by e-mail) or a group a role on this organization or one of its spaces."""

    field_aliases = {"user": "user_email", "group": "user_email", "organization": "scope"}

    user_email = forms.EmailField(
        required=False, label="User e-mail", help_text="The person must have signed in to Spaceport once."
    )
    group = forms.ModelChoiceField(queryset=Group.objects.none(), required=False, empty_label="No group")
    scope = forms.ChoiceField(
        choices=[(Scope.ORGANIZATION, "The whole organization"), (Scope.SPACE, "One space")],
        initial=Scope.ORGANIZATION,
    )
    role = forms.ChoiceField(
        choices=[
            ("Organization roles", [(role, Role(role).label) for role in (Role.ACCESS, Role.ADMIN, Role.TRUSTEE)]),
            ("Space roles", [(role, Role(role).label) for role in (Role.USER, Role.SUPPLIER, Role.TRUSTEE)]),
        ],
        help_text="Organization: access, admin, trustee. Space: user (read), supplier (write), trustee (delete).",
    )
    space = SpaceChoiceField(queryset=Space.objects.none(), required=False, empty_label="Choose a space")

    def __init__(self, *args: Any, organization: Organization, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "grant")
        super().__init__(*args, **kwargs)
        self.organization = organization
        group_field = self.fields["group"]
        space_field = self.fields["space"]
        assert isinstance(group_field, forms.ModelChoiceField)
        assert isinstance(space_field, forms.ModelChoiceField)
        group_field.queryset = Group.objects.order_by("name")
        space_field.queryset = organization.spaces.exclude(state=State.DELETION).order_by("name")
        for name in ("user_email", "group", "space"):
            self.fields[name].show_optional = False  # type: ignore[attr-defined]
        self.has_groups = Group.objects.exists()
        if self.has_groups:
            self.fields["user_email"].help_text += " Or choose a group instead."

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        email = cleaned.get("user_email")
        group = cleaned.get("group")
        if bool(email) == bool(group) and "user_email" not in self.errors:
            self.add_error("user_email", "Name one user by e-mail, or choose one group.")
        elif email:
            user = get_user_model().objects.filter(email__iexact=email, is_active=True).first()
            if user is None:
                self.add_error("user_email", "Nobody with this e-mail address has signed in to Spaceport yet.")
            cleaned["user"] = user
        if cleaned.get("scope") == Scope.ORGANIZATION:
            cleaned["space"] = None
        return cleaned
