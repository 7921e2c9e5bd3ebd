"""Spaceport's own OpenID Connect issuer, for workload identity in customers' clouds.

AWS (AssumeRoleWithWebIdentity) and Google (workload identity federation) trust an issuer by
fetching its discovery document and keys, then check each token's ``sub``. Spaceport mints a
short-lived token per use whose ``sub`` names one organization and one connection, so a trust
policy written for one customer admits no other customer's requests.

Keys come from settings: the first signs, every one is published, so a new key is rolled in by
listing it first and the old one is dropped once the tokens it signed have expired (minutes).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from jwt.algorithms import RSAAlgorithm

ALGORITHM = "RS256"
DISCOVERY_PATH = "/.well-known/openid-configuration"
JWKS_PATH = "/.well-known/jwks.json"
MIN_KEY_BITS = 2048


class IssuerNotConfiguredError(ImproperlyConfigured):
    """The issuer lacks a signing key or a public URL; the message names the setting to fix."""


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private: rsa.RSAPrivateKey

    def public_jwk(self) -> dict[str, Any]:
        jwk = RSAAlgorithm.to_jwk(self.private.public_key(), as_dict=True)
        return {"kty": jwk["kty"], "n": jwk["n"], "e": jwk["e"], "kid": self.kid, "use": "sig", "alg": ALGORITHM}


def issuer_url() -> str:
    url = str(settings.SPACEPORT_OIDC_ISSUER_URL or "").rstrip("/")
    if not url:
        raise IssuerNotConfiguredError(
            "Spaceport's OIDC issuer has no public URL: set SPACEPORT_OIDC_ISSUER_URL (or SPACEPORT_SITE_URL)."
        )
    return url


def signing_keys() -> list[SigningKey]:
    """The configured keys in order (the first signs), or the development key kept under var/."""
    pems = tuple(settings.SPACEPORT_OIDC_SIGNING_KEYS) or _development_key()
    if not pems:
        raise IssuerNotConfiguredError(
            "Spaceport's OIDC issuer has no signing key: set SPACEPORT_OIDC_SIGNING_KEYS (or _FILE) to a PEM RSA "
            "private key (openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:3072)."
        )
    return _parsed(pems)


def mint(subject: str, audience: str, *, lifetime_seconds: int | None = None) -> str:
    """A signed token for one use: Spaceport asserts ``subject`` to ``audience`` for a few minutes."""
    key = signing_keys()[0]
    now = int(time.time())
    lifetime = lifetime_seconds or settings.SPACEPORT_OIDC_TOKEN_SECONDS
    claims = {
        "iss": issuer_url(),
        "sub": subject,
        "aud": audience,
        "iat": now,
        "nbf": now,
        "exp": now + lifetime,
        "jti": secrets.token_urlsafe(16),
    }
    return jwt.encode(claims, key.private, algorithm=ALGORITHM, headers={"kid": key.kid})


def discovery_document() -> dict[str, Any]:
    issuer = issuer_url()
    return {
        "issuer": issuer,
        "jwks_uri": issuer + JWKS_PATH,
        "response_types_supported": ["id_token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": [ALGORITHM],
        "claims_supported": ["iss", "sub", "aud", "iat", "nbf", "exp", "jti"],
    }


def key_set() -> dict[str, Any]:
    return {"keys": [key.public_jwk() for key in signing_keys()]}


def _thumbprint(public_key: rsa.RSAPublicKey) -> str:
    """RFC 7638: the key id is derived from the key, so it never has to be configured."""
    jwk = RSAAlgorithm.to_jwk(public_key, as_dict=True)
    canonical = json.dumps({"e": jwk["e"], "kty": jwk["kty"], "n": jwk["n"]}, separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).rstrip(b"=").decode()


@lru_cache(maxsize=4)
def _parsed(pems: tuple[str, ...]) -> list[SigningKey]:
    keys: list[SigningKey] = []
    for number, pem in enumerate(pems, start=1):
        try:
            private = serialization.load_pem_private_key(pem.encode(), password=None)
        except (ValueError, TypeError) as exc:
            raise IssuerNotConfiguredError(
                f"SPACEPORT_OIDC_SIGNING_KEYS key {number} is not an unencrypted PEM private key."
            ) from exc
        if not isinstance(private, rsa.RSAPrivateKey) or private.key_size < MIN_KEY_BITS:
            raise IssuerNotConfiguredError(
                f"SPACEPORT_OIDC_SIGNING_KEYS key {number} must be an RSA key of at least {MIN_KEY_BITS} bits."
            )
        keys.append(SigningKey(_thumbprint(private.public_key()), private))
    return keys


def _development_key() -> tuple[str, ...]:
    """Generated once and kept, so tokens and the published keys survive a restart in development."""
    configured = settings.SPACEPORT_OIDC_DEVELOPMENT_KEY_FILE
    if not configured:
        return ()
    path = Path(configured)
    if not path.exists():
        private = rsa.generate_private_key(public_exponent=65537, key_size=MIN_KEY_BITS)
        pem = private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written aside and linked into place, so a process starting at the same moment (web and
        # worker) reads either no key or the whole key, and both end up with the same one.
        draft = path.with_name(f".{path.name}.{os.getpid()}")
        descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(pem)
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return (path.read_text(encoding="ascii"),)
