"""Bearer JWTs in the API, verified against the test identity provider's published keys."""

from __future__ import annotations

import base64
import copy
import json
import logging
import time
import uuid
from typing import Any

import jwt
import pytest
from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.contrib.auth import get_user_model
from django.core.cache import cache
from redis import Redis
from rest_framework.test import APIClient

from portal.auth import bearer
from portal.tenancy.grants import Grant
from portal.tenancy.models import Organization, Space
from tests.conftest import make_user
from tests.idp.fixtures import IdentityProvider, identity_provider_fixture  # noqa: F401

ME = "/api/v1/me/"
ROLES = ["org_acme_access", "acme_raw_supplier", "SDK_ADMIN"]


@pytest.fixture(scope="module")
def idp_tokens(identity_provider: IdentityProvider) -> dict[str, Any]:
    """An access token and an ID token for the provider's test user, from the authorization code flow."""
    identity_provider.set_roles(identity_provider.username, ROLES)
    return identity_provider.tokens()


@pytest.fixture
def idp(settings: Any, identity_provider: IdentityProvider) -> IdentityProvider:
    settings.OIDC_ISSUER = identity_provider.issuer
    settings.OIDC_AUDIENCE = identity_provider.client_id
    caches = copy.deepcopy(settings.CACHES)
    caches["default"]["KEY_PREFIX"] = f"test-bearer-{uuid.uuid4().hex}"
    settings.CACHES = caches
    return identity_provider


def call_me(token: str) -> Any:
    return APIClient().get(ME, HTTP_AUTHORIZATION=f"Bearer {token}")


def mint(idp: IdentityProvider, *, key: bytes | None = None, kid: str | None = None, **claims: Any) -> str:
    now = int(time.time())
    payload: dict[str, Any] = {
        "iss": idp.issuer,
        "sub": "1",
        "aud": "account",
        "azp": idp.client_id,
        "iat": now,
        "nbf": now,
        "exp": now + 300,
    }
    payload.update(claims)
    payload = {name: value for name, value in payload.items() if value is not None}
    return jwt.encode(payload, key or idp.signing_key_pem, algorithm="RS256", headers={"kid": kid or idp.kid})


def other_key() -> bytes:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def assert_refused(response: Any, token: str, words: str) -> None:
    assert response.status_code == 401, response.content
    body = response.content.decode()
    assert words in body
    assert token not in body
    assert token.split(".")[1] not in body


def test_an_access_token_from_the_provider_signs_in_with_its_roles_for_that_request(
    idp: IdentityProvider, idp_tokens: dict[str, Any], space: Space
) -> None:
    claims = jwt.decode(idp_tokens["access_token"], options={"verify_signature": False})
    assert claims["aud"] == "account"
    assert claims["azp"] == idp.client_id

    response = call_me(idp_tokens["access_token"])
    assert response.status_code == 200, response.content
    me = response.json()
    assert me["email"] == idp.email
    assert me["platform_admin"] is True
    assert {(r["scope"], r["role"], r["organization"], r["space"]) for r in me["roles"]} >= {
        ("organization", "access", "acme", None),
        ("space", "supplier", "acme", "raw"),
        ("platform", "sdk_admin", None, None),
    }

    user = SocialAccount.objects.get(provider="sso", uid=claims["sub"]).user
    assert not Grant.objects.filter(user=user).exists()
    assert call_me(idp_tokens["id_token"]).json()["id"] == user.pk
    assert get_user_model().objects.filter(socialaccount__provider="sso").count() == 1


def test_roles_of_one_token_do_not_outlive_it(idp: IdentityProvider, organization: Organization) -> None:
    assert call_me(mint(idp, roles=["SDK_ADMIN"])).json()["platform_admin"] is True
    plain = call_me(mint(idp)).json()
    assert plain["platform_admin"] is False
    assert plain["roles"] == []


def test_an_id_token_is_accepted_by_its_audience(idp: IdentityProvider, idp_tokens: dict[str, Any], db: None) -> None:
    claims = jwt.decode(idp_tokens["id_token"], options={"verify_signature": False})
    assert claims["aud"] == idp.client_id
    assert "azp" not in claims
    assert call_me(idp_tokens["id_token"]).status_code == 200


def test_a_tampered_token_is_refused(idp: IdentityProvider, idp_tokens: dict[str, Any], db: None) -> None:
    header, payload, signature = idp_tokens["access_token"].split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["sub"] = "someone-else"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    token = f"{header}.{forged}.{signature}"
    assert_refused(call_me(token), token, "signature does not verify")
    assert not SocialAccount.objects.filter(uid="someone-else").exists()


def test_an_expired_token_is_refused(idp: IdentityProvider, db: None) -> None:
    past = int(time.time()) - 3600
    token = mint(idp, iat=past - 300, nbf=past - 300, exp=past)
    assert_refused(call_me(token), token, "expired")


def test_a_token_not_yet_valid_is_refused(idp: IdentityProvider, db: None) -> None:
    future = int(time.time()) + 3600
    token = mint(idp, nbf=future, exp=future + 300)
    assert_refused(call_me(token), token, "not valid yet")


def test_a_token_signed_by_another_key_is_refused(idp: IdentityProvider, db: None) -> None:
    same_kid = mint(idp, key=other_key())
    assert_refused(call_me(same_kid), same_kid, "signature does not verify")
    unknown_kid = mint(idp, key=other_key(), kid="not-a-published-key")
    assert_refused(call_me(unknown_kid), unknown_kid, "key the issuer does not publish")


def test_a_token_from_another_issuer_is_refused(idp: IdentityProvider, db: None) -> None:
    token = mint(idp, iss="https://elsewhere.example/realms/x")
    assert_refused(call_me(token), token, "another issuer")


def test_a_token_for_another_audience_is_refused(idp: IdentityProvider, db: None) -> None:
    token = mint(idp, aud="someone-else", azp="another-client")
    assert_refused(call_me(token), token, "another audience")


def test_a_token_without_subject_or_expiry_is_refused(idp: IdentityProvider, db: None) -> None:
    no_sub = mint(idp, sub=None)
    assert_refused(call_me(no_sub), no_sub, "'sub'")
    no_exp = mint(idp, exp=None)
    assert_refused(call_me(no_exp), no_exp, "'exp'")


def test_an_unsigned_token_is_refused(idp: IdentityProvider, db: None) -> None:
    token = jwt.encode(
        {"iss": idp.issuer, "sub": "1", "aud": idp.client_id, "exp": int(time.time()) + 60}, None, "none"
    )
    assert_refused(call_me(token), token, "algorithm")


def test_bearer_tokens_are_refused_when_no_issuer_is_configured(
    settings: Any, identity_provider: IdentityProvider, db: None
) -> None:
    settings.OIDC_ISSUER = ""
    token = mint(identity_provider)
    assert_refused(call_me(token), token, "no OIDC issuer is configured")


def test_an_unreachable_issuer_answers_503(idp: IdentityProvider, settings: Any, db: None) -> None:
    settings.OIDC_ISSUER = "http://127.0.0.1:9/o"
    token = mint(idp, iss=settings.OIDC_ISSUER)
    response = call_me(token)
    assert response.status_code == 503
    assert token not in response.content.decode()


def test_a_local_account_with_the_same_email_is_not_taken_over(idp: IdentityProvider, db: None) -> None:
    local = make_user(idp.email)
    response = call_me(mint(idp, sub="sub-with-known-email", email=idp.email, email_verified=True))
    assert response.status_code == 200
    assert response.json()["id"] != local.pk
    created = SocialAccount.objects.get(uid="sub-with-known-email").user
    assert created.email == ""
    assert EmailAddress.objects.filter(email__iexact=idp.email).count() == 1


def test_tokens_never_reach_the_logs(idp: IdentityProvider, db: None, caplog: pytest.LogCaptureFixture) -> None:
    tokens = [mint(idp), mint(idp, exp=int(time.time()) - 3600), mint(idp, key=other_key())]
    with caplog.at_level(logging.DEBUG):
        for token in tokens:
            call_me(token)
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert caplog.records
    for token in tokens:
        assert token not in logged
        assert token.split(".")[2] not in logged


def test_the_issuer_keys_are_cached_for_the_configured_time(idp: IdentityProvider, db: None, settings: Any) -> None:
    settings.OIDC_JWKS_CACHE_SECONDS = 120
    assert call_me(mint(idp)).status_code == 200
    key = bearer._cache_key(idp.issuer, "jwks")
    assert [k["kid"] for k in cache.get(key)["keys"]] == [idp.kid]
    redis = Redis.from_url(settings.CACHES["default"]["LOCATION"])
    assert 0 < redis.ttl(cache.make_key(key)) <= 120


def test_a_token_verified_before_is_still_refused_once_it_expires(
    idp: IdentityProvider, db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = mint(idp, exp=int(time.time()) + 60)
    assert call_me(token).status_code == 200
    assert call_me(token).status_code == 200
    later = time.time() + 60 + bearer.LEEWAY_SECONDS + 1
    monkeypatch.setattr(bearer.time, "time", lambda: later)
    response = call_me(token)
    assert response.status_code == 401
    assert "expired" in response.json()["message"]


def test_a_remembered_token_is_not_accepted_for_another_issuer(idp: IdentityProvider, db: None, settings: Any) -> None:
    token = mint(idp)
    assert call_me(token).status_code == 200
    settings.OIDC_ISSUER = "http://127.0.0.1:9/other-issuer"
    assert call_me(token).status_code in (401, 503)


def test_a_token_sent_again_is_refused_once_its_account_is_disabled(idp: IdentityProvider, db: None) -> None:
    token = mint(idp, sub="leaving")
    assert call_me(token).status_code == 200
    assert call_me(token).status_code == 200, "the second request finds the token's user and roles in memory"
    user = SocialAccount.objects.get(provider="sso", uid="leaving").user
    user.is_active = False
    user.save()
    assert_refused(call_me(token), token, "disabled")


def test_a_token_sent_again_gets_a_copy_of_its_user(idp: IdentityProvider, db: None) -> None:
    token = mint(idp, sub="copied")
    first, _ = bearer.authenticate_bearer([b"Bearer", token.encode()])
    first.first_name = "changed by one request"
    second, _ = bearer.authenticate_bearer([b"Bearer", token.encode()])
    assert second.pk == first.pk
    assert second.first_name != "changed by one request", "what one request does to its user stays there"
