"""Spaceport's own OpenID Connect issuer: discovery, published keys, rotation, and minted tokens."""

from __future__ import annotations

import importlib
import time
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from django.test import Client

from portal.auth import issuer
from portal.auth.issuer_checks import issuer_configuration
from spaceport.env import env_pem_blocks
from tests.issuer_support import verify_published


def pem(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def rsa_pem() -> str:
    return pem(rsa.generate_private_key(public_exponent=65537, key_size=2048))


# Refused by the issuer: a key too short to trust.
WEAK_KEY = pem(rsa.generate_private_key(public_exponent=65537, key_size=1024))  # noqa: S505


@pytest.fixture
def issuer_at(settings: Any) -> str:
    settings.SPACEPORT_OIDC_ISSUER_URL = "https://spaceport.example.com"
    return "https://spaceport.example.com"


def test_discovery_names_the_issuer_and_its_keys(issuer_at: str) -> None:
    response = Client().get("/.well-known/openid-configuration")
    assert response.status_code == 200
    document = response.json()
    assert document["issuer"] == issuer_at
    assert document["jwks_uri"] == f"{issuer_at}/.well-known/jwks.json"
    assert document["id_token_signing_alg_values_supported"] == ["RS256"]
    assert "public" in response["Cache-Control"]


def test_published_keys_hold_no_private_part(issuer_at: str) -> None:
    keys = Client().get("/.well-known/jwks.json").json()["keys"]
    assert len(keys) == 1
    assert set(keys[0]) == {"kty", "n", "e", "kid", "use", "alg"}
    assert (keys[0]["kty"], keys[0]["alg"], keys[0]["use"]) == ("RSA", "RS256", "sig")


def test_minted_token_verifies_against_the_published_keys(issuer_at: str, settings: Any) -> None:
    settings.SPACEPORT_OIDC_TOKEN_SECONDS = 240
    before = int(time.time())
    token = issuer.mint("organization/acme/connection/spaceport-abc", "sts.amazonaws.com")
    claims = verify_published(token, "sts.amazonaws.com")
    assert claims["iss"] == issuer_at
    assert claims["sub"] == "organization/acme/connection/spaceport-abc"
    assert before <= claims["iat"] <= claims["exp"] - 240 + 1
    with pytest.raises(jwt.InvalidAudienceError):
        verify_published(token, "https://iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p")


def test_rotation_publishes_every_key_and_signs_with_the_first(issuer_at: str, settings: Any) -> None:
    old, new = rsa_pem(), rsa_pem()
    settings.SPACEPORT_OIDC_SIGNING_KEYS = [old]
    signed_by_old = issuer.mint("organization/acme/connection/x", "sts.amazonaws.com")

    settings.SPACEPORT_OIDC_SIGNING_KEYS = [new, old]
    published = [key["kid"] for key in Client().get("/.well-known/jwks.json").json()["keys"]]
    signed_by_new = issuer.mint("organization/acme/connection/x", "sts.amazonaws.com")

    assert len(set(published)) == 2
    assert jwt.get_unverified_header(signed_by_new)["kid"] == published[0]
    assert jwt.get_unverified_header(signed_by_old)["kid"] == published[1]
    verify_published(signed_by_old, "sts.amazonaws.com")
    verify_published(signed_by_new, "sts.amazonaws.com")

    settings.SPACEPORT_OIDC_SIGNING_KEYS = [new]
    with pytest.raises(StopIteration):
        verify_published(signed_by_old, "sts.amazonaws.com")


def test_development_key_is_generated_once_and_kept(issuer_at: str, settings: Any, tmp_path: Path) -> None:
    key_file = tmp_path / "var" / "oidc-signing-key.pem"
    settings.SPACEPORT_OIDC_SIGNING_KEYS = []
    settings.SPACEPORT_OIDC_DEVELOPMENT_KEY_FILE = str(key_file)
    first = issuer.signing_keys()[0].kid
    assert key_file.stat().st_mode & 0o777 == 0o600
    issuer._parsed.cache_clear()
    assert issuer.signing_keys()[0].kid == first


def test_without_a_key_production_publishes_nothing_and_mints_nothing(issuer_at: str, settings: Any) -> None:
    settings.SPACEPORT_OIDC_SIGNING_KEYS = []
    settings.SPACEPORT_OIDC_DEVELOPMENT_KEY_FILE = ""
    response = Client().get("/.well-known/jwks.json")
    assert response.status_code == 503
    assert "SPACEPORT_OIDC_SIGNING_KEYS" in response.json()["detail"]
    with pytest.raises(issuer.IssuerNotConfiguredError, match="SPACEPORT_OIDC_SIGNING_KEYS"):
        issuer.mint("organization/acme/connection/x", "sts.amazonaws.com")


def test_without_a_public_url_there_is_no_issuer(settings: Any) -> None:
    settings.SPACEPORT_OIDC_ISSUER_URL = ""
    assert Client().get("/.well-known/openid-configuration").status_code == 503
    with pytest.raises(issuer.IssuerNotConfiguredError, match="SPACEPORT_OIDC_ISSUER_URL"):
        issuer.mint("organization/acme/connection/x", "sts.amazonaws.com")


@pytest.mark.parametrize(
    ("key", "message"),
    [
        (pem(ec.generate_private_key(ec.SECP256R1())), "must be an RSA key"),
        (WEAK_KEY, "must be an RSA key of at least 2048 bits"),
        ("-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n", "is not an unencrypted PEM"),
    ],
)
def test_unusable_signing_keys_are_named(issuer_at: str, settings: Any, key: str, message: str) -> None:
    settings.SPACEPORT_OIDC_SIGNING_KEYS = [rsa_pem(), key]
    with pytest.raises(issuer.IssuerNotConfiguredError, match=f"key 2 {message}"):
        issuer.signing_keys()


def test_several_keys_in_one_variable_or_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    first, second = rsa_pem(), rsa_pem()
    keys_file = tmp_path / "keys.pem"
    keys_file.write_text(first + second)
    monkeypatch.setenv("SPACEPORT_OIDC_SIGNING_KEYS_FILE", str(keys_file))
    assert env_pem_blocks("SPACEPORT_OIDC_SIGNING_KEYS") == [first, second]
    monkeypatch.delenv("SPACEPORT_OIDC_SIGNING_KEYS_FILE")
    monkeypatch.setenv("SPACEPORT_OIDC_SIGNING_KEYS", "not a key")
    with pytest.raises(Exception, match="PEM blocks"):
        env_pem_blocks("SPACEPORT_OIDC_SIGNING_KEYS")


def test_connections_made_before_the_issuer_get_their_own_id(organization: Any) -> None:
    """The migration gives existing web identity and workload identity connections an id; others keep none."""
    from django.apps import apps

    from connections.models import CloudConnection

    backfill = importlib.import_module("connections.migrations.0002_workload_subjects")
    made = {
        method: CloudConnection.objects.create(
            organization=organization, name=f"old-{index}", provider=provider, method=method, external_id=None
        )
        for index, (provider, method) in enumerate(
            [("aws", "aws_web_identity"), ("gcp", "gcp_workload_identity"), ("gcp", "gcp_direct_iam")]
        )
    }
    backfill.issue_ids(apps, None)
    ids = {method: CloudConnection.objects.get(pk=c.pk).external_id for method, c in made.items()}
    assert ids["aws_web_identity"] and ids["aws_web_identity"].startswith("spaceport-")
    assert ids["gcp_workload_identity"] and ids["gcp_workload_identity"] != ids["aws_web_identity"]
    assert ids["gcp_direct_iam"] is None


def test_a_configured_key_that_cannot_sign_stops_startup(issuer_at: str, settings: Any) -> None:
    settings.SPACEPORT_OIDC_SIGNING_KEYS = [WEAK_KEY]
    assert [problem.id for problem in issuer_configuration()] == ["spaceport.E101"]
    settings.SPACEPORT_OIDC_SIGNING_KEYS = [rsa_pem()]
    assert issuer_configuration() == []


def test_production_needs_an_https_issuer(settings: Any) -> None:
    settings.DEBUG = False
    settings.SPACEPORT_OIDC_ISSUER_URL = "http://spaceport.example.com"
    assert [problem.id for problem in issuer_configuration()] == ["spaceport.E102"]
    settings.SPACEPORT_OIDC_ISSUER_URL = "https://spaceport.example.com"
    assert issuer_configuration() == []
