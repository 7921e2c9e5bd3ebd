"""Bearer JWTs from the configured OIDC issuer, for the API.

A token is accepted when its signature verifies against the issuer's published keys and its
``iss``, ``exp``, ``nbf`` and audience hold. Keycloak puts the client id in ``azp`` and often
sends ``aud: account``, so either ``aud`` or ``azp`` may name Spaceport's audience. Role claims
in the token apply to that one request only; they are not stored as grants.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import jwt
import requests
from allauth.account.adapter import get_adapter as get_account_adapter
from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import IntegrityError, transaction
from rest_framework import exceptions, status

from portal.core import snapshots
from portal.core.cache import ProcessMemory
from portal.tenancy.roleclaims import facts_from_role_names, role_names_from_claims
from portal.tenancy.rules import RoleFact

logger = logging.getLogger(__name__)

ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"]
LEEWAY_SECONDS = 30
FETCH_TIMEOUT_SECONDS = 5
REFETCH_INTERVAL_SECONDS = 30
PARSED_KEYS_SECONDS = 30
PROFILE_CLAIMS = ("sub", "iss", "email", "email_verified", "preferred_username", "name")


class BearerTokenError(Exception):
    """A bearer token was refused; the message is safe to show and never contains the token."""


class IssuerUnavailableError(Exception):
    """The issuer's discovery document or keys could not be fetched."""


class IssuerUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "The identity provider's signing keys could not be fetched; try again shortly."
    default_code = "issuer_unavailable"


@dataclass(frozen=True)
class BearerAuth:
    """What ``request.auth`` holds for a bearer token: who issued it and the roles it claims."""

    issuer: str
    subject: str
    expires_at: int
    role_names: list[str] = field(default_factory=list)
    role_facts: list[RoleFact] = field(default_factory=list)


def _cache_key(issuer: str, kind: str) -> str:
    return f"spaceport:oidc:{kind}:{hashlib.sha256(issuer.encode()).hexdigest()[:24]}"


def _get_json(url: str) -> dict[str, Any]:
    try:
        response = requests.get(url, timeout=FETCH_TIMEOUT_SECONDS)
        response.raise_for_status()
        body = response.json()
    except (requests.RequestException, ValueError) as exc:
        logger.warning("Could not fetch %s: %s", url, exc.__class__.__name__)
        raise IssuerUnavailableError(url) from exc
    if not isinstance(body, dict):
        raise IssuerUnavailableError(url)
    return body


# Public keys, each with the monotonic time it is kept until.
_parsed_keys: ProcessMemory[str, tuple[float, jwt.PyJWKSet]] = ProcessMemory("issuer key sets", entries=16)


def forget_parsed_keys() -> None:
    """Drop the per-process key sets and verified tokens (the shared cache stays), as after a
    configuration change."""
    _parsed_keys.clear()
    _verified.clear()
    _principals.clear()


def issuer_keys(issuer: str, *, refresh: bool = False) -> jwt.PyJWKSet:
    """The issuer's JWKS, from discovery, cached for ``OIDC_JWKS_CACHE_SECONDS``.

    Shared through the cache between processes; each process also keeps the parsed key set for
    a few seconds, since parsing RSA keys on every request costs more than verifying a signature.
    """
    remembered = _parsed_keys.get(issuer)
    if not refresh and remembered is not None and remembered[0] > time.monotonic():
        return remembered[1]
    key = _cache_key(issuer, "jwks")
    jwks = None if refresh else cache.get(key)
    if jwks is None:
        discovery = _get_json(f"{issuer.rstrip('/')}/.well-known/openid-configuration")
        jwks_uri = discovery.get("jwks_uri")
        if not isinstance(jwks_uri, str):
            raise IssuerUnavailableError(issuer)
        jwks = _get_json(jwks_uri)
        cache.set(key, jwks, timeout=settings.OIDC_JWKS_CACHE_SECONDS)
    try:
        keys = jwt.PyJWKSet.from_dict(jwks)
    except jwt.PyJWKSetError as exc:
        raise IssuerUnavailableError(issuer) from exc
    _parsed_keys.put(issuer, (time.monotonic() + min(PARSED_KEYS_SECONDS, settings.OIDC_JWKS_CACHE_SECONDS), keys))
    return keys


def _signing_key(issuer: str, kid: str | None) -> jwt.PyJWK:
    """The key named by ``kid``; an unknown kid triggers one refetch (keys rotate), at most every 30 s."""
    keys = issuer_keys(issuer)
    found = _find_key(keys, kid)
    if found is None and cache.add(_cache_key(issuer, "refetch"), 1, timeout=REFETCH_INTERVAL_SECONDS):
        found = _find_key(issuer_keys(issuer, refresh=True), kid)
    if found is None:
        raise BearerTokenError("The bearer token is signed by a key the issuer does not publish.")
    return found


def _find_key(keys: jwt.PyJWKSet, kid: str | None) -> jwt.PyJWK | None:
    signing = [k for k in keys.keys if k.public_key_use in (None, "sig")]
    if kid is None:
        return signing[0] if len(signing) == 1 else None
    return next((k for k in signing if k.key_id == kid), None)


def _audience_matches(claims: Mapping[str, Any], audience: str) -> bool:
    aud = claims.get("aud")
    audiences = [aud] if isinstance(aud, str) else list(aud) if isinstance(aud, list) else []
    return audience in audiences or claims.get("azp") == audience


VERIFIED_TOKENS_KEPT = 2048
# Claims by the token's digest (never the token) and the issuer that verified them; each read
# checks the times again.
_verified: ProcessMemory[str, tuple[str, dict[str, Any]]] = ProcessMemory(
    "verified bearer tokens", entries=VERIFIED_TOKENS_KEPT
)


# The user and roles a verified token stands for, by the token's digest and the access snapshot
# version they were found at: a change to the user, their link or the spaces the claims name starts
# a new version, so an entry is never used past one.
_principals: ProcessMemory[tuple[str, str], tuple[Any, BearerAuth]] = ProcessMemory(
    "bearer principals", entries=VERIFIED_TOKENS_KEPT
)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def verify_bearer_token(token: str, digest: str | None = None) -> dict[str, Any]:
    """The verified claims of ``token``, or :class:`BearerTokenError` saying what is wrong.

    Clients send the same token for many requests; a token whose signature this process has
    already verified (for the same issuer) is not verified again, only its times are checked.
    """
    digest = digest or _digest(token)
    remembered = _verified.get(digest)
    if remembered is not None and remembered[0] == settings.OIDC_ISSUER:
        claims = remembered[1]
        now = time.time()
        if claims["exp"] + LEEWAY_SECONDS <= now:
            _verified.forget(digest)
            raise BearerTokenError("The bearer token has expired.")
        if claims.get("nbf", 0) - LEEWAY_SECONDS > now:
            raise BearerTokenError("The bearer token is not valid yet.")
        return claims
    claims = _verify_bearer_token(token)
    _verified.put(digest, (settings.OIDC_ISSUER, claims))
    return claims


def _verify_bearer_token(token: str) -> dict[str, Any]:
    issuer = settings.OIDC_ISSUER
    audience = settings.OIDC_AUDIENCE
    if not issuer or not audience:
        raise BearerTokenError("Bearer tokens are not accepted: no OIDC issuer is configured.")
    try:
        header = jwt.get_unverified_header(token)
    except jwt.DecodeError as exc:
        raise BearerTokenError("The bearer token is not a well-formed JWT.") from exc
    algorithm = header.get("alg")
    if algorithm not in ALGORITHMS:
        raise BearerTokenError("The bearer token is signed with an algorithm Spaceport does not accept.")
    key = _signing_key(issuer, header.get("kid"))
    base = issuer.rstrip("/")
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=[algorithm],
            issuer=[base, f"{base}/"],
            leeway=LEEWAY_SECONDS,
            options={"require": ["exp", "iss", "sub"], "verify_aud": False},
        )
    except jwt.ExpiredSignatureError as exc:
        raise BearerTokenError("The bearer token has expired.") from exc
    except jwt.ImmatureSignatureError as exc:
        raise BearerTokenError("The bearer token is not valid yet.") from exc
    except jwt.InvalidIssuerError as exc:
        raise BearerTokenError("The bearer token was issued by another issuer.") from exc
    except jwt.InvalidSignatureError as exc:
        raise BearerTokenError("The bearer token's signature does not verify.") from exc
    except jwt.MissingRequiredClaimError as exc:
        raise BearerTokenError(f"The bearer token has no {exc.claim!r} claim.") from exc
    except jwt.InvalidTokenError as exc:
        raise BearerTokenError("The bearer token is not valid.") from exc
    if not _audience_matches(claims, audience):
        raise BearerTokenError("The bearer token was issued for another audience.")
    return claims


def user_for_claims(claims: Mapping[str, Any]) -> Any:
    """The local user linked to the token's subject, created (with its SSO link) on first use.

    An existing local account with the same e-mail address is never taken over: the new user
    then gets no e-mail address, as a single sign-on would not link them either.
    """
    provider_id = settings.OIDC_PROVIDER_ID
    subject = str(claims["sub"])

    def linked_user() -> Any:
        account = (
            SocialAccount.objects.select_related("user")
            .defer("user__password", "extra_data")
            .filter(provider=provider_id, uid=subject)
            .first()
        )
        return account.user if account is not None else None

    user = snapshots.cached("sso-user", f"{provider_id}:{subject}", linked_user)
    if user is not None:
        return user
    email = claims.get("email") if isinstance(claims.get("email"), str) else ""
    if email and EmailAddress.objects.filter(email__iexact=email).exists():
        email = ""
    username = get_account_adapter().generate_unique_username(
        [str(claims.get("preferred_username") or ""), email, "user"]
    )
    profile = {name: claims[name] for name in PROFILE_CLAIMS if name in claims}
    try:
        with transaction.atomic():
            user = get_user_model().objects.create_user(username=username, email=email)
            user.set_unusable_password()
            user.save(update_fields=["password"])
            SocialAccount.objects.create(user=user, provider=provider_id, uid=subject, extra_data=profile)
            if email:
                EmailAddress.objects.create(
                    user=user, email=email, primary=True, verified=claims.get("email_verified") is True
                )
    except IntegrityError:
        account = SocialAccount.objects.select_related("user").get(provider=provider_id, uid=subject)
        return account.user
    return user


def authenticate_bearer(header: list[bytes]) -> tuple[Any, BearerAuth]:
    """``Authorization: Bearer <jwt>`` split in two; the user and the token's per-request roles.

    A token sent again at the same snapshot version stands for the same user and roles, kept per
    process; the caller gets its own copy of the user, and the token's times are checked every time.
    """
    if len(header) != 2:
        raise exceptions.AuthenticationFailed("Send the token as 'Authorization: Bearer <jwt>'.")
    try:
        token = header[1].decode("ascii")
    except UnicodeDecodeError as exc:
        raise exceptions.AuthenticationFailed("The bearer token is not a well-formed JWT.") from exc
    digest = _digest(token)
    try:
        claims = verify_bearer_token(token, digest)
    except BearerTokenError as exc:
        raise exceptions.AuthenticationFailed(str(exc)) from None
    except IssuerUnavailableError:
        raise IssuerUnavailable() from None
    known = _principals.get((digest, snapshots.version()))
    if known is not None:
        return _own_copy(known[0]), known[1]
    user = user_for_claims(claims)
    if not user.is_active:
        raise exceptions.AuthenticationFailed("The account for this token is disabled.")
    role_names = role_names_from_claims(claims)
    auth = BearerAuth(
        issuer=str(claims["iss"]),
        subject=str(claims["sub"]),
        expires_at=int(claims["exp"]),
        role_names=role_names,
        role_facts=facts_from_role_names(role_names),
    )
    _principals.put((digest, snapshots.version()), (_own_copy(user), auth))
    return user, auth


def _own_copy(user: Any) -> Any:
    """A copy of the user as pickling would make it (``Model.__getstate__`` copies its state), without
    the model lookup by name that unpickling costs."""
    clone = object.__new__(type(user))
    clone.__dict__.update(user.__getstate__())
    return clone
