"""Serializers for the caller's own things: personal API tokens and who they are."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from rest_framework import serializers

from portal.auth.models import ApiToken


class ApiTokenSerializer(serializers.ModelSerializer):
    """A token as it can be shown again: its hint, never its key."""

    expired = serializers.BooleanField(source="is_expired", read_only=True)

    class Meta:
        model = ApiToken
        fields = ["id", "name", "key_hint", "created", "expires", "last_used", "expired"]
        read_only_fields = ["id", "key_hint", "created", "last_used", "expired"]

    def validate_expires(self, value: Any) -> Any:
        if value is not None and value <= timezone.now():
            raise serializers.ValidationError("Choose a time in the future.", code="in_past")
        return value


class IssuedApiTokenSerializer(ApiTokenSerializer):
    """The answer to creating a token: the only time its key is ever shown."""

    key = serializers.CharField(read_only=True, help_text="Shown only in this answer; store it now.")

    class Meta(ApiTokenSerializer.Meta):
        fields = [*ApiTokenSerializer.Meta.fields, "key"]
        read_only_fields = [*ApiTokenSerializer.Meta.read_only_fields, "key"]


class RoleSerializer(serializers.Serializer):
    scope = serializers.CharField()
    role = serializers.CharField()
    organization = serializers.CharField(allow_null=True)
    space = serializers.CharField(allow_null=True)


class MeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    username = serializers.CharField()
    platform_admin = serializers.BooleanField()
    may_create_organization = serializers.BooleanField()
    owned_organizations = serializers.ListField(child=serializers.CharField())
    roles = RoleSerializer(many=True)
