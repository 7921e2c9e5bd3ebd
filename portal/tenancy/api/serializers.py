"""Serializers for organizations, spaces and the audit trail."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from portal.audit.models import AuditEvent
from portal.tenancy.access import access_for
from portal.tenancy.changes import create_organization, create_space, update_organization, update_space
from portal.tenancy.models import Organization, Space, State
from portal.web.api.fields import UserEmailField

TAG_LIMIT = 50
ACCESS_LEVELS = ["delete", "write", "read", "none"]
ORGANIZATION_ACCESS_LEVELS = ["admin", "member", "public", "none"]


def tags_field() -> serializers.ListField:
    return serializers.ListField(
        child=serializers.CharField(max_length=64), max_length=TAG_LIMIT, required=False, help_text="Free labels."
    )


def refuse_deletion_state(value: str) -> str:
    """Deletion is its own step (``DELETE``), with its own checks; a plain change cannot reach it."""
    if value == State.DELETION:
        raise serializers.ValidationError("Use DELETE to mark this for deletion.", code="invalid_choice")
    return value


def keep_name(serializer: serializers.ModelSerializer, value: str, kind: str) -> str:
    """Names are fixed once created: role names, storage paths and SDK clients refer to them."""
    instance = serializer.instance
    if isinstance(instance, (Organization, Space)) and value != instance.name:
        if isinstance(instance, Space) and instance.is_loadingzone:
            raise serializers.ValidationError("The loadingzone cannot be renamed.", code="loadingzone")
        raise serializers.ValidationError(f"A {kind}'s name cannot be changed.", code="immutable")
    return value


class OrganizationSerializer(serializers.ModelSerializer):
    owners = UserEmailField(many=True, required=False, help_text="E-mail addresses of the owners.")
    tags = tags_field()
    my_roles = serializers.SerializerMethodField(help_text="The caller's roles here; 'owner' when they own it.")
    my_access = serializers.SerializerMethodField(help_text="What the caller may do here.")

    class Meta:
        model = Organization
        fields = [
            "name",
            "display_name",
            "description",
            "confidentiality",
            "state",
            "owners",
            "tags",
            "created",
            "modified",
            "my_roles",
            "my_access",
        ]
        read_only_fields = ["created", "modified"]

    def validate_name(self, value: str) -> str:
        return keep_name(self, value, "organization")

    def validate_state(self, value: str) -> str:
        return refuse_deletion_state(value)

    def get_my_roles(self, organization: Organization) -> list[str]:
        context = access_for(self.context["request"])
        roles = sorted(context.organization_roles(organization))
        return ["owner", *roles] if context.is_owner(organization) else roles

    @extend_schema_field(serializers.ChoiceField(choices=ORGANIZATION_ACCESS_LEVELS))
    def get_my_access(self, organization: Organization) -> str:
        context = access_for(self.context["request"])
        if context.may_administer(organization):
            return "admin"
        if context.is_member(organization):
            return "member"
        if context.may_access_organization(organization):
            return "public"
        return "none"

    def create(self, validated_data: dict[str, Any]) -> Organization:
        creator = self.context["request"].user
        owners = validated_data.pop("owners", [])
        with transaction.atomic():
            organization = create_organization(owner=creator, **validated_data)
            others = [user for user in owners if user.pk != creator.pk]
            if others:
                organization.owners.add(*others)
        return organization

    def update(self, instance: Organization, validated_data: dict[str, Any]) -> Organization:
        owners = validated_data.pop("owners", None)
        validated_data.pop("name", None)
        with transaction.atomic():
            update_organization(instance, **validated_data)
            if owners is not None:
                instance.owners.set(owners)
        return instance


class SpaceSerializer(serializers.ModelSerializer):
    organization = serializers.CharField(source="organization.name", read_only=True)
    tags = tags_field()
    access = serializers.SerializerMethodField(help_text="The caller's strongest access to the space's data.")

    class Meta:
        model = Space
        fields = [
            "organization",
            "name",
            "display_name",
            "description",
            "confidentiality",
            "state",
            "retention_days",
            "tags",
            "created",
            "modified",
            "access",
        ]
        read_only_fields = ["created", "modified"]

    def validate_name(self, value: str) -> str:
        keep_name(self, value, "space")
        organization = self.context.get("organization")
        if self.instance is None and organization is not None and organization.spaces.filter(name=value).exists():
            raise serializers.ValidationError(
                f"The organization {organization.name} already has a space named {value}.", code="unique"
            )
        return value

    def validate_state(self, value: str) -> str:
        return refuse_deletion_state(value)

    @extend_schema_field(serializers.ChoiceField(choices=ACCESS_LEVELS))
    def get_access(self, space: Space) -> str:
        return access_for(self.context["request"]).effective_access(space)

    def create(self, validated_data: dict[str, Any]) -> Space:
        return create_space(self.context["organization"], **validated_data)

    def update(self, instance: Space, validated_data: dict[str, Any]) -> Space:
        validated_data.pop("name", None)
        return update_space(instance, **validated_data)


class AuditEventSerializer(serializers.ModelSerializer):
    organization = serializers.CharField(source="organization_name", read_only=True)
    actor = serializers.CharField(source="actor_label", read_only=True)

    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "time",
            "actor",
            "action",
            "outcome",
            "target_type",
            "target_id",
            "target_label",
            "organization",
            "ip_address",
            "request_id",
            "details",
        ]
        read_only_fields = fields
