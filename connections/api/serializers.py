"""Connections in the API: settings readable, secrets write-only and never echoed."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from rest_framework import serializers

from connections.models import CloudConnection
from connections.providers.registry import all_specs, method_choices


class ConnectionSerializer(serializers.ModelSerializer):
    secret_fields_set = serializers.SerializerMethodField(
        help_text="Which secret fields hold a value; their values are never returned."
    )
    organization = serializers.CharField(source="organization.name", read_only=True)
    links = serializers.SerializerMethodField()

    class Meta:
        model = CloudConnection
        fields = [
            "name",
            "organization",
            "provider",
            "method",
            "config",
            "secret_fields_set",
            "external_id",
            "status",
            "status_message",
            "validated_at",
            "key_rotation",
            "created",
            "modified",
            "links",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "key_rotation": {
                "help_text": "The last rotation of a long-term key the connection opted in to rotating (the "
                "rotate_key setting): outcome (rotated, failed, old_key_kept), at, message, hint, key_id (the key "
                "in use, never its secret) and rotated_at (when it was put in place). Empty before the first one."
            },
            "external_id": {
                "help_text": "The connection's fixed random id: the ExternalId of a cross-account role, and the "
                "last part of the subject (organization/<org>/connection/<id>) of the tokens Spaceport signs "
                "for web identity and workload identity federation. Empty for other methods."
            },
        }

    def get_secret_fields_set(self, obj: CloudConnection) -> list[str]:
        return obj.secret_field_names

    def get_links(self, obj: CloudConnection) -> dict[str, str]:
        kwargs = {"organization_name": obj.organization.name, "name": obj.name}
        return {
            "self": reverse("connection-detail", kwargs=kwargs),
            "validate": reverse("connection-validate", kwargs=kwargs),
            "report": reverse("connection-report", kwargs=kwargs),
        }


class ConnectionWriteSerializer(serializers.Serializer):
    """What a client sends: the method and its fields (secret ones included) under ``values``."""

    name = serializers.RegexField(r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]\Z", max_length=63, required=False)
    # The registered methods, read when the serializer is built: a new provider needs no change here.
    method = serializers.ChoiceField(choices=[], required=False)
    values = serializers.DictField(
        child=serializers.JSONField(),
        write_only=True,
        required=False,
        help_text="The method's fields (see /api/v1/connection-methods/). Secret fields left out keep their value.",
    )
    validate_now = serializers.BooleanField(default=True, write_only=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        method = self.fields["method"]
        assert isinstance(method, serializers.ChoiceField)
        method.choices = method_choices()

    def validate_values(self, value: dict[str, Any]) -> dict[str, Any]:
        if len(value) > 20:
            raise serializers.ValidationError("Too many fields.")
        return value


class InstructionSerializer(serializers.Serializer):
    title = serializers.CharField()
    body = serializers.CharField()
    language = serializers.CharField()


class ReportSerializer(serializers.Serializer):
    status = serializers.CharField()
    status_message = serializers.CharField()
    validated_at = serializers.DateTimeField(allow_null=True)
    report = serializers.JSONField()


class ChoiceSerializer(serializers.Serializer):
    value = serializers.CharField()
    title = serializers.CharField()


class MethodInputSerializer(serializers.Serializer):
    name = serializers.CharField()
    title = serializers.CharField()
    guidance = serializers.CharField()
    secret = serializers.BooleanField()
    optional = serializers.BooleanField()
    kind = serializers.CharField()
    destination = serializers.BooleanField(
        help_text="Decides where the stored secret is sent: changing it requires entering the secret again."
    )
    choices = ChoiceSerializer(many=True, help_text="For kind 'choice': the only values accepted.")


class MethodSerializer(serializers.Serializer):
    method = serializers.CharField()
    provider = serializers.CharField()
    title = serializers.CharField()
    summary = serializers.CharField()
    risk = serializers.CharField()
    uses_external_id = serializers.BooleanField()
    uses_spaceport_subject = serializers.BooleanField(
        help_text="Spaceport signs a token for each connection whose subject names its organization and the "
        "connection; the instructions show the trust to set up for it."
    )
    recommended = serializers.BooleanField()
    inputs = MethodInputSerializer(many=True)


def method_catalogue() -> list[dict[str, Any]]:
    return [
        {
            "method": spec.method,
            "provider": spec.provider,
            "title": spec.label,
            "summary": spec.summary,
            "risk": spec.risk,
            "uses_external_id": spec.uses_external_id,
            "uses_spaceport_subject": spec.uses_spaceport_subject,
            "recommended": spec.recommended,
            "inputs": [
                {
                    "name": f.name,
                    "title": f.label,
                    "guidance": f.help,
                    "secret": f.secret,
                    "optional": not f.required,
                    "kind": f.kind,
                    "destination": f.destination,
                    "choices": [{"value": value, "title": title} for value, title in f.options()],
                }
                for f in spec.fields
            ],
        }
        for spec in all_specs().values()
    ]
