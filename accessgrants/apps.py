from __future__ import annotations

from django.apps import AppConfig


class AccessGrantsConfig(AppConfig):
    name = "accessgrants"
    verbose_name = "Access grants"

    def ready(self) -> None:
        from accessgrants import snapshots
        from accessgrants.models import Grant
        from portal.auditing import audit_model

        audit_model(Grant)
        snapshots.watch()
