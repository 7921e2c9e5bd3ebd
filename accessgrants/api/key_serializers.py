"""What the key endpoints read and answer. A key's secret appears only in :class:`IssuedKeySerializer`,
answered once, when the key is made."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from accessgrants.models import AccessKey, KeyRequest


class AccessKeySerializer(serializers.ModelSerializer):
    organization = serializers.CharField(source="organization.name", read_only=True)
    access_key = serializers.CharField(source="access_key_id", read_only=True)

    class Meta:
        model = AccessKey
        fields = [
            "access_key",
            "organization",
            "description",
            "status",
            "created",
            "expires",
            "last_used",
            "deactivate_after",
        ]
        read_only_fields = fields


class IssuedKeySerializer(serializers.Serializer):
    """The key pair, the one time its secret is shown."""

    access_key = serializers.CharField()
    secret_key = serializers.CharField()
    organization = serializers.CharField()
    expires = serializers.DateTimeField(allow_null=True)

    @staticmethod
    def of(issued: Any) -> dict[str, Any]:
        return {
            "access_key": issued.access_key,
            "secret_key": issued.secret_key,
            "organization": issued.key.organization.name,
            "expires": issued.key.expires,
        }


class NewKeySerializer(serializers.Serializer):
    organization = serializers.CharField(
        required=False, allow_blank=True, help_text="The organization's name; needed when you belong to several."
    )
    description = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")
    lifetime_days = serializers.IntegerField(required=False, allow_null=True, min_value=1, default=None)


class KeyRequestSerializer(serializers.ModelSerializer):
    organization = serializers.CharField(source="organization.name", read_only=True)
    requester = serializers.EmailField(source="requester.email", read_only=True)
    decided_by = serializers.EmailField(source="decided_by.email", read_only=True, allow_null=True)
    access_key = serializers.CharField(source="key.access_key_id", read_only=True, allow_null=True)

    class Meta:
        model = KeyRequest
        fields = [
            "id",
            "organization",
            "requester",
            "reason",
            "lifetime_days",
            "status",
            "created",
            "decided_by",
            "decided_at",
            "decision_reason",
            "access_key",
        ]
        read_only_fields = fields


class NewKeyRequestSerializer(serializers.Serializer):
    organization = serializers.CharField(
        required=False, allow_blank=True, help_text="The organization's name; needed when you belong to several."
    )
    reason = serializers.CharField(max_length=1000, help_text="What the key is for; the organization's admins read it.")
    lifetime_days = serializers.IntegerField(required=False, allow_null=True, min_value=1, default=None)


class DecisionSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=1000, default="")
