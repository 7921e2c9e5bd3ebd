"""Issuing personal API tokens, shared by the API and the tokens page so both keep the same limit."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings

from portal.auth.models import ApiToken
from portal.core.errors import DomainError


def issue_personal_token(user: Any, name: str, expires: datetime | None = None) -> tuple[ApiToken, str]:
    """Create a token for ``user`` and return it with its key, refusing once the per-person limit is reached.

    The limit keeps a leaked session from minting tokens without end; the key is returned this once only.
    """
    limit = settings.SPACEPORT_API_TOKEN_MAX_PER_USER
    if ApiToken.objects.filter(user=user).count() >= limit:
        raise DomainError("non_field_errors", f"You already have {limit} tokens; delete one first.", code="token_limit")
    return ApiToken.issue(user, name, expires)
