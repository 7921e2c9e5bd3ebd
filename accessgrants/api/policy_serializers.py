"""Identity policies and the simulator over REST: people and groups by name, policies by name."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accessgrants.models import IdentityPolicy
from accessgrants.policies.actions import canonical_action
from portal.web.api.fields import UserEmailField


@extend_schema_field(OpenApiTypes.OBJECT)
class PolicyDocumentField(serializers.JSONField):
    """The IAM JSON policy, as an object or as its JSON text (checked by the domain, not here)."""


class IdentityPolicySerializer(serializers.ModelSerializer):
    created_by = serializers.EmailField(source="created_by.email", read_only=True, allow_null=True, default=None)
    users = serializers.SerializerMethodField(help_text="E-mail addresses of the users it is attached to.")
    groups = serializers.SerializerMethodField(help_text="Names of the groups it is attached to.")

    class Meta:
        model = IdentityPolicy
        fields = ["name", "description", "document", "version", "users", "groups", "created", "modified", "created_by"]
        read_only_fields = fields

    def _shows_attachments(self) -> bool:
        """Only those who run the organization see whom else a policy is attached to."""
        return bool(self.context.get("administers"))

    def get_users(self, policy: IdentityPolicy) -> list[str]:
        if not self._shows_attachments():
            return []
        return sorted(a.user.email for a in policy.attachments.all() if a.user is not None)

    def get_groups(self, policy: IdentityPolicy) -> list[str]:
        if not self._shows_attachments():
            return []
        return sorted(a.group.name for a in policy.attachments.all() if a.group is not None)


class PolicyInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=128, help_text="Unique in the organization.")
    description = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")
    document = PolicyDocumentField(help_text="The policy: Version and Statement, as in IAM.")


class PolicyChangeSerializer(PolicyInputSerializer):
    name = serializers.CharField(max_length=128, required=False)
    description = serializers.CharField(max_length=1000, required=False, allow_blank=True)
    document = PolicyDocumentField(required=False)


class AttachmentSerializer(serializers.Serializer):
    """Exactly one of the two; the domain checks that it belongs to the organization."""

    user = UserEmailField(required=False, allow_null=True, help_text="The user's e-mail address.")
    group = serializers.SlugRelatedField(
        slug_field="name", queryset=Group.objects.all(), required=False, allow_null=True, help_text="A group's name."
    )


class QuestionSerializer(serializers.Serializer):
    """Who asks, and the circumstances of the request."""

    user = UserEmailField(required=False, allow_null=True, help_text="The user the question is about.")
    access_key = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text="An S3 access key id of the organization, instead of the user: its owner's decision, "
        "within the key's organization, while the key is active.",
    )
    source_ip = serializers.IPAddressField(required=False, allow_null=True, help_text="aws:SourceIp.")
    time = serializers.DateTimeField(required=False, allow_null=True, help_text="aws:CurrentTime; now if left out.")
    secure = serializers.BooleanField(required=False, default=True, help_text="aws:SecureTransport.")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("access_key") and attrs.get("user") is not None:
            raise serializers.ValidationError(
                {"access_key": "Name the user or the access key, not both."}, code="invalid"
            )
        if not attrs.get("access_key") and attrs.get("user") is None:
            raise serializers.ValidationError({"user": "Name the user or the access key."}, code="required")
        return attrs


class SimulationSerializer(QuestionSerializer):
    action = serializers.CharField(help_text="An S3 action, e.g. s3:GetObject.")
    resource = serializers.CharField(help_text="arn:aws:s3:::<bucket>[/<key>] or <bucket>[/<key>].")
    facts = serializers.DictField(
        child=serializers.JSONField(), required=False, help_text='More request facts, e.g. {"s3:prefix": "in/"}.'
    )

    def validate_action(self, value: str) -> str:
        action = canonical_action(value)
        if action is None:
            raise serializers.ValidationError(f"unknown action {value}")
        return action


class SpaceSimulationSerializer(QuestionSerializer):
    space = serializers.CharField(help_text="The space's name in the organization.")
    key = serializers.CharField(required=False, default="*", help_text="The object key object actions are asked about.")


class StatementSerializer(serializers.Serializer):
    policy = serializers.CharField()
    sid = serializers.CharField()
    index = serializers.IntegerField(help_text="The statement's number in its policy, from 1.")
    effect = serializers.CharField()


class DecisionSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=["allow", "deny"])
    outcome = serializers.CharField()
    statements = StatementSerializer(many=True)
    reason = serializers.CharField()


class AbilitySerializer(DecisionSerializer):
    action = serializers.CharField()
    resource = serializers.CharField()


class SpaceAbilitiesSerializer(serializers.Serializer):
    user = serializers.EmailField(help_text="The user asked about, or the access key's owner.")
    access_key = serializers.CharField(required=False, help_text="The access key asked about, if one was.")
    space = serializers.CharField()
    bucket = serializers.CharField()
    actions = AbilitySerializer(many=True)
