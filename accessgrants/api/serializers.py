"""Grants over REST: people, groups, organizations and spaces are named, never numbered."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group
from rest_framework import serializers

from portal.tenancy.access import access_for
from portal.tenancy.grants import Grant, Role, Scope
from portal.tenancy.models import Organization
from portal.web.api.fields import UserEmailField


class GrantSerializer(serializers.ModelSerializer):
    user = serializers.EmailField(source="user.email", read_only=True, allow_null=True, default=None)
    group = serializers.CharField(source="group.name", read_only=True, allow_null=True, default=None)
    organization = serializers.CharField(source="organization.name", read_only=True, allow_null=True, default=None)
    space = serializers.CharField(source="space.name", read_only=True, allow_null=True, default=None)
    granted_by = serializers.EmailField(source="granted_by.email", read_only=True, allow_null=True, default=None)

    class Meta:
        model = Grant
        fields = ["id", "user", "group", "scope", "role", "organization", "space", "source", "granted_by", "created"]
        read_only_fields = fields


class NewGrantSerializer(serializers.Serializer):
    """What to grant, to whom; the names are resolved here and the grant itself is judged by ``grant_role``."""

    user = UserEmailField(required=False, allow_null=True, help_text="The user's e-mail address.")
    group = serializers.SlugRelatedField(
        slug_field="name", queryset=Group.objects.all(), required=False, allow_null=True, help_text="A group's name."
    )
    scope = serializers.ChoiceField(choices=Scope.choices)
    role = serializers.ChoiceField(choices=Role.choices)
    organization = serializers.CharField(required=False, allow_null=True, help_text="The organization's name.")
    space = serializers.CharField(required=False, allow_null=True, help_text="The space's name in the organization.")

    def validate_organization(self, value: str | None) -> Organization | None:
        """Only organizations the caller can see are found, so a refusal here reveals nothing."""
        if not value:
            return None
        organization = access_for(self.context["request"]).visible_organizations().filter(name=value).first()
        if organization is None:
            raise serializers.ValidationError(f"No organization named {value}.", code="does_not_exist")
        return organization

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        space_name = attrs.get("space")
        organization = attrs.get("organization")
        if not space_name:
            attrs["space"] = None
            return attrs
        if organization is None:
            raise serializers.ValidationError(
                {"organization": "Name the organization the space belongs to."}, code="required"
            )
        space = organization.spaces.filter(name=space_name).first()
        if space is None:
            raise serializers.ValidationError(
                {"space": f"The organization {organization.name} has no space named {space_name}."},
                code="does_not_exist",
            )
        attrs["space"] = space
        return attrs
