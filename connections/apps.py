from __future__ import annotations

from django.apps import AppConfig


class ConnectionsConfig(AppConfig):
    name = "connections"
    verbose_name = "Cloud connections"

    def ready(self) -> None:
        from connections.models import CloudConnection
        from portal.auditing import audit_model

        audit_model(CloudConnection)
