from __future__ import annotations

from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Spaceport"

    def ready(self) -> None:
        from portal.auditing import audit_model
        from portal.auth import issuer_checks  # noqa: F401 - registers the issuer's startup checks
        from portal.models import ApiToken, Organization, Space

        audit_model(Organization, m2m_fields=("owners",))
        audit_model(Space)
        audit_model(ApiToken)
