"""Commits and their objects over REST; the webhook's secret is write-only."""

from __future__ import annotations

from django.urls import reverse
from rest_framework import serializers

from commits.models import Commit, CommitItem, OrganizationWebhook


class NewCommitSerializer(serializers.Serializer):
    root_dir = serializers.CharField(
        max_length=1024, allow_blank=True, trim_whitespace=False, help_text="The directory in the loadingzone."
    )
    overwrite = serializers.BooleanField(
        default=False, help_text="Replace objects that already exist in the space with different content."
    )


class CommitSerializer(serializers.ModelSerializer):
    organization = serializers.CharField(source="organization.name", read_only=True)
    space = serializers.CharField(source="space.name", read_only=True)
    user = serializers.CharField(source="user_label", read_only=True)
    status_url = serializers.SerializerMethodField()
    items_url = serializers.SerializerMethodField()

    class Meta:
        model = Commit
        fields = [
            "id",
            "organization",
            "space",
            "root_dir",
            "user",
            "origin",
            "state",
            "overwrite",
            "total",
            "moved",
            "skipped",
            "failed",
            "conflicts",
            "bytes_total",
            "bytes_moved",
            "runs",
            "created",
            "started",
            "finished",
            "error",
            "status_url",
            "items_url",
        ]
        read_only_fields = fields

    def _url(self, name: str, commit: Commit) -> str:
        path = reverse(name, args=[commit.organization.name, commit.space.name, commit.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path

    def get_status_url(self, commit: Commit) -> str:
        return self._url("space-commit-detail", commit)

    def get_items_url(self, commit: Commit) -> str:
        return self._url("space-commit-items", commit)


class CommitItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = CommitItem
        fields = ["key", "size", "checksum", "state", "copied", "attempts", "error", "updated"]
        read_only_fields = fields


class WebhookSerializer(serializers.ModelSerializer):
    secret = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        min_length=16,
        max_length=256,
        help_text="Signs every delivery. Leave out to keep the stored one (or to have one generated).",
    )
    has_secret = serializers.BooleanField(read_only=True)
    generated_secret = serializers.SerializerMethodField(
        help_text="The secret Spaceport generated, in this answer only; empty when you set your own."
    )

    class Meta:
        model = OrganizationWebhook
        fields = ["url", "enabled", "secret", "has_secret", "generated_secret", "created", "modified"]
        read_only_fields = ["created", "modified"]

    def get_generated_secret(self, hook: OrganizationWebhook) -> str:
        return str(self.context.get("generated_secret", ""))
