from __future__ import annotations

from django.apps import AppConfig


class GatewayConfig(AppConfig):
    """The S3 gateway: every space a bucket, reachable with a Spaceport access key."""

    name = "gateway"
    verbose_name = "S3 gateway"
    default_auto_field = "django.db.models.BigAutoField"
