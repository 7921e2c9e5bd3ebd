"""Startup checks for Spaceport's OIDC issuer: a configured key that cannot sign stops the process.

Without any key the issuer simply stays off (and says so when used); a key that is present but
unusable, or a public issuer URL AWS and Google would refuse, is a mistake to catch before the
first customer's validation does.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, register

from portal.auth import issuer


@register(Tags.security)
def issuer_configuration(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    problems: list[CheckMessage] = []
    if settings.SPACEPORT_OIDC_SIGNING_KEYS:
        try:
            issuer.signing_keys()
        except issuer.IssuerNotConfiguredError as exc:
            problems.append(Error(str(exc), id="spaceport.E101"))
    url = settings.SPACEPORT_OIDC_ISSUER_URL
    if url and not settings.DEBUG and urlsplit(url).scheme != "https":
        problems.append(
            Error(
                f"SPACEPORT_OIDC_ISSUER_URL must be an https URL when DEBUG is off (not {url}): AWS and Google "
                "fetch the issuer's keys over HTTPS only.",
                id="spaceport.E102",
            )
        )
    return problems
