"""The tokens page: people create, list and revoke their own personal API tokens, audited like the API."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from portal.audit.models import AuditEvent
from portal.auth.models import ApiToken, hash_token
from tests.pages_support import client_for, field_errors


def _shown_key(html: str) -> str:
    match = re.search(r'<code id="token-key">(spt_[^<]+)</code>', html)
    assert match, "the new token's key is not on the page"
    return match.group(1)


def test_the_tokens_page_needs_sign_in(client: Client, db: None) -> None:
    response = client.get(reverse("api_tokens"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_the_user_menu_links_to_the_tokens_page(member: Any) -> None:
    html = client_for(member).get(reverse("dashboard")).content.decode()
    assert f'href="{reverse("api_tokens")}"' in html


def test_a_created_token_is_shown_once_works_for_the_api_and_is_audited(member: Any) -> None:
    client = client_for(member)
    response = client.post(reverse("api_tokens"), {"name": "nightly upload", "lifetime": "30"})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    html = response.content.decode()
    key = _shown_key(html)
    assert 'data-copy="#token-key"' in html
    token = ApiToken.objects.get(user=member)
    assert token.name == "nightly upload"
    assert token.key_hash == hash_token(key)
    assert token.expires is not None
    assert timedelta(days=29) < token.expires - timezone.now() <= timedelta(days=30)

    listing = client.get(reverse("api_tokens")).content.decode()
    assert key not in listing
    assert "nightly upload" in listing
    assert token.key_hint in listing

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api.get("/api/v1/me/").status_code == 200
    token.refresh_from_db()
    assert token.last_used is not None
    assert "Never" not in client.get(reverse("api_tokens")).content.decode().split("nightly upload")[1][:600]

    event = AuditEvent.objects.get(action="apitoken.create", target_id=str(token.pk))
    assert event.actor == member
    assert key not in str(event.details)
    assert token.key_hash not in str(event.details)


def test_a_token_may_live_forever_when_chosen(member: Any) -> None:
    client_for(member).post(reverse("api_tokens"), {"name": "ci", "lifetime": ""})
    assert ApiToken.objects.get(user=member).expires is None


def test_a_token_without_a_name_or_with_too_long_a_name_is_refused_by_field(member: Any) -> None:
    client = client_for(member)
    response = client.post(reverse("api_tokens"), {"name": "", "lifetime": "90"})
    assert response.status_code == 400
    assert field_errors(response, "id_name") == ["This field is required."]
    response = client.post(reverse("api_tokens"), {"name": "x" * 101, "lifetime": "90"})
    assert response.status_code == 400
    assert "at most 100 characters" in field_errors(response, "id_name")[0]
    response = client.post(reverse("api_tokens"), {"name": "ok", "lifetime": "7"})
    assert response.status_code == 400
    assert field_errors(response, "id_lifetime")
    assert not ApiToken.objects.filter(user=member).exists()


def test_the_per_person_limit_is_shown_on_the_form(member: Any, settings: Any) -> None:
    settings.SPACEPORT_API_TOKEN_MAX_PER_USER = 1
    client = client_for(member)
    client.post(reverse("api_tokens"), {"name": "first", "lifetime": "90"})
    response = client.post(reverse("api_tokens"), {"name": "second", "lifetime": "90"})
    assert response.status_code == 400
    assert "You already have 1 tokens" in response.content.decode()
    assert list(ApiToken.objects.filter(user=member).values_list("name", flat=True)) == ["first"]


def test_revoking_deletes_the_token_asks_first_and_is_audited(member: Any) -> None:
    token, key = ApiToken.issue(member, "old job")
    client = client_for(member)
    html = client.get(reverse("api_tokens")).content.decode()
    revoke = reverse("api_token_revoke", args=[token.pk])
    assert re.search(rf'action="{re.escape(revoke)}" data-confirm="Revoke the token old job\?', html)
    response = client.post(revoke)
    assert response.status_code == 302
    assert not ApiToken.objects.filter(pk=token.pk).exists()
    event = AuditEvent.objects.get(action="apitoken.delete", target_id=str(token.pk))
    assert event.actor == member
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api.get("/api/v1/me/").status_code == 401


def test_another_persons_token_cannot_be_revoked_or_seen(member: Any, outsider: Any) -> None:
    token, _ = ApiToken.issue(member, "members token")
    client = client_for(outsider)
    assert "members token" not in client.get(reverse("api_tokens")).content.decode()
    assert client.post(reverse("api_token_revoke", args=[token.pk])).status_code == 404
    assert ApiToken.objects.filter(pk=token.pk).exists()
    assert not AuditEvent.objects.filter(action="apitoken.delete").exists()


def test_revoking_needs_post(member: Any) -> None:
    token, _ = ApiToken.issue(member, "kept")
    assert client_for(member).get(reverse("api_token_revoke", args=[token.pk])).status_code == 405
    assert ApiToken.objects.filter(pk=token.pk).exists()
