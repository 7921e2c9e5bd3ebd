"""Claims of the test identity provider: Keycloak-like role names and JWT access tokens.

Role names are read from ``roles.json`` in the state directory on every token, so a test can
change a user's roles between two sign-ins.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import jwt
from django.conf import settings
from jwcrypto import jwk
from oauth2_provider.oauth2_validators import OAuth2Validator

ACCESS_TOKEN_AUDIENCE = "account"


def roles_of(username: str) -> list[str]:
    path = settings.STATE_DIR / "roles.json"
    if not path.exists():
        return []
    return list(json.loads(path.read_text()).get(username, []))


def _signing_key() -> tuple[str, str]:
    pem = settings.OAUTH2_PROVIDER["OIDC_RSA_PRIVATE_KEY"]
    return pem, jwk.JWK.from_pem(pem.encode()).thumbprint()


class RolesValidator(OAuth2Validator):
    oidc_claim_scope = {**OAuth2Validator.oidc_claim_scope, "roles": "openid"}

    def get_additional_claims(self, request: Any) -> dict[str, Any]:
        user = request.user
        return {
            "email": user.email,
            "email_verified": True,
            "preferred_username": user.username,
            "name": user.get_full_name() or user.username,
            "roles": roles_of(user.username),
        }


def jwt_access_token(request: Any) -> str:
    """An RS256 access token shaped like Keycloak's: ``aud`` is ``account``, the client is in ``azp``."""
    now = int(time.time())
    user = getattr(request, "user", None)
    claims: dict[str, Any] = {
        "iss": settings.ISSUER,
        "aud": ACCESS_TOKEN_AUDIENCE,
        "azp": request.client_id,
        "iat": now,
        "nbf": now,
        "exp": now + int(request.expires_in),
        "jti": uuid.uuid4().hex,
        "scope": " ".join(request.scopes or []),
    }
    if user is not None and user.is_authenticated:
        claims.update(
            sub=str(user.pk),
            email=user.email,
            email_verified=True,
            preferred_username=user.username,
            realm_access={"roles": roles_of(user.username)},
        )
    else:
        claims["sub"] = f"service-account-{request.client_id}"
    pem, kid = _signing_key()
    return jwt.encode(claims, pem, algorithm="RS256", headers={"kid": kid})
