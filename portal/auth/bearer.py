"""Bearer JWTs from the configured OIDC issuer (placeholder until SSO lands)."""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions


def authenticate_bearer(header: list[bytes]) -> tuple[Any, Any] | None:
    raise exceptions.AuthenticationFailed("Bearer tokens are not accepted: no OIDC issuer is configured.")
