"""IBM Cloud Object Storage: checks for what a customer enters, with messages that say how to fix it."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from connections.inputs import allowed_choice


def ibm_iam_token_url(value: Any, *, vetted: bool = True) -> str:
    """Only the operator's IBM Cloud IAM token URLs: the API key is sent there."""
    allowed = list(settings.SPACEPORT_IBM_IAM_TOKEN_URLS)
    return allowed_choice(value, allowed, "IAM token URLs", origin_only=False, vetted=vetted)


def ibm_iam_token_choices() -> tuple[tuple[str, str], ...]:
    return tuple((url, url) for url in settings.SPACEPORT_IBM_IAM_TOKEN_URLS)
