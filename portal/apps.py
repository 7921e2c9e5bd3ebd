from __future__ import annotations

from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Spaceport"

    def ready(self) -> None:
        from portal.audit.signals import audit_model
        from portal.auth import issuer_checks  # noqa: F401 - registers the issuer's startup checks
        from portal.auth.models import ApiToken
        from portal.tenancy.models import Organization, Space

        audit_model(Organization, m2m_fields=("owners",))
        audit_model(Space)
        audit_model(ApiToken)
