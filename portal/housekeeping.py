"""Periodic clean-up of things that have outlived their use."""

from __future__ import annotations

from django.utils import timezone

from portal.auth.models import ApiToken


def purge_expired_api_tokens() -> int:
    """Expired tokens can never authenticate again; keeping their hashes only adds clutter."""
    count = 0
    for token in ApiToken.objects.filter(expires__lte=timezone.now()):
        token.delete()
        count += 1
    return count
