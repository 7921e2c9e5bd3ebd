from __future__ import annotations

from django.apps import AppConfig


class CommitsConfig(AppConfig):
    name = "commits"
    verbose_name = "Commits"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from commits import engine, queue
        from commits.models import OrganizationWebhook
        from portal.audit.signals import audit_model

        audit_model(OrganizationWebhook)
        engine.finished.connect(queue.notify_webhook, dispatch_uid="commits.notify_webhook")
