"""Access tokens with chosen role claims, signed with the test identity provider's own key.

Going through the provider's login flow for every role combination would be slow; these tokens
are shaped like its access tokens (Keycloak-style ``realm_access.roles``) and verified the same
way, against the keys it publishes.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import jwt

from tests.idp.fixtures import IdentityProvider


def mint_access_token(
    provider: IdentityProvider,
    roles: list[str] | tuple[str, ...] = (),
    *,
    subject: str | None = None,
    lifetime: int = 300,
    **claims: Any,
) -> str:
    """A signed access token for ``subject`` (a fresh one unless given) holding ``roles``."""
    now = int(time.time())
    subject = subject or f"user-{uuid.uuid4().hex[:12]}"
    payload: dict[str, Any] = {
        "iss": provider.issuer,
        "sub": subject,
        "aud": "account",
        "azp": provider.client_id,
        "iat": now,
        "nbf": now,
        "exp": now + lifetime,
        "jti": uuid.uuid4().hex,
        "preferred_username": subject,
        "realm_access": {"roles": list(roles)},
    }
    payload.update(claims)
    return jwt.encode(payload, provider.signing_key_pem, algorithm="RS256", headers={"kid": provider.kid})
