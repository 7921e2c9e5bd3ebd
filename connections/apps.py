from __future__ import annotations

from django.apps import AppConfig


class ConnectionsConfig(AppConfig):
    name = "connections"
    verbose_name = "Cloud connections"

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from connections import binding
        from connections.models import CloudConnection
        from connections.providers.registry import spec_for
        from connections.signals import organization_saved, space_saved
        from portal.audit.signals import audit_model
        from portal.tenancy.models import Organization, Space

        binding.use_specs(spec_for)
        audit_model(CloudConnection)
        post_save.connect(space_saved, sender=Space, dispatch_uid="connections.space_saved")
        post_save.connect(organization_saved, sender=Organization, dispatch_uid="connections.organization_saved")
