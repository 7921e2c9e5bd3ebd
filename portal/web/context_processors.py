from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def spaceport(request: HttpRequest) -> dict[str, object]:
    """Site-wide template values."""
    return {
        "site_name": settings.SPACEPORT_SITE_NAME,
        "sso_enabled": bool(settings.SOCIALACCOUNT_PROVIDERS),
        "sso_provider_id": settings.OIDC_PROVIDER_ID,
        "sso_provider_name": settings.OIDC_PROVIDER_NAME,
    }
