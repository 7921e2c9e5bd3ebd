"""Checking a token from Spaceport's issuer the way AWS and Google do: through its published documents."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import jwt
from django.test import Client


def verify_published(token: str, audience: str) -> dict[str, Any]:
    """Fetch the discovery document and JWKS over HTTP, pick the key by ``kid``, check signature and claims."""
    client = Client()
    discovery = client.get("/.well-known/openid-configuration")
    assert discovery.status_code == 200
    config = discovery.json()
    keys = client.get(urlsplit(config["jwks_uri"]).path)
    assert keys.status_code == 200
    kid = jwt.get_unverified_header(token)["kid"]
    published = next(key for key in keys.json()["keys"] if key["kid"] == kid)
    claims: dict[str, Any] = jwt.decode(
        token,
        jwt.PyJWK(published).key,
        algorithms=["RS256"],
        audience=audience,
        issuer=config["issuer"],
        options={"require": ["iss", "sub", "aud", "exp", "iat"]},
    )
    return claims
