"""Local sign-in: e-mail and password, mandatory e-mail verification, TOTP, and the failed-login limit."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import struct
import time
from typing import Any

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client
from django.urls import reverse

from tests.conftest import PASSWORD

LOGIN = "/accounts/login/"


def signed_in_user_id(client: Client) -> int | None:
    value = client.session.get("_auth_user_id")
    return int(value) if value is not None else None


def totp(secret: str, at: float | None = None) -> str:
    """RFC 6238 (SHA-1, 30 s, 6 digits), computed here rather than by allauth."""
    counter = int((time.time() if at is None else at) // 30)
    digest = hmac.new(base64.b32decode(secret, casefold=True), struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 1_000_000:06d}"


def test_sign_in_with_email_and_password(client: Client, member: Any) -> None:
    response = client.post(LOGIN, {"login": member.email, "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard")
    assert signed_in_user_id(client) == member.pk


def test_a_wrong_password_does_not_sign_in(client: Client, member: Any) -> None:
    response = client.post(LOGIN, {"login": member.email, "password": "not-the-password"})
    assert response.status_code == 200
    assert signed_in_user_id(client) is None


def test_an_unverified_email_address_cannot_sign_in_until_confirmed(client: Client, db: None) -> None:
    user = get_user_model().objects.create_user(username="newbie", email="newbie@example.com", password=PASSWORD)
    EmailAddress.objects.create(user=user, email=user.email, verified=False, primary=True)

    response = client.post(LOGIN, {"login": user.email, "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")
    assert signed_in_user_id(client) is None
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [user.email]

    link = re.search(r"https?://[^\s]+/accounts/confirm-email/[^\s]+/", mail.outbox[0].body)
    assert link is not None
    path = link.group(0).split("://", 1)[1].split("/", 1)[1]
    confirmed = client.post(f"/{path}")
    assert confirmed.status_code == 302
    assert EmailAddress.objects.get(user=user).verified

    response = client.post(LOGIN, {"login": user.email, "password": PASSWORD})
    assert response.status_code == 302
    assert signed_in_user_id(client) == user.pk


def test_sign_up_sends_a_verification_mail_and_does_not_sign_in(client: Client, settings: Any, db: None) -> None:
    settings.ACCOUNT_ALLOW_REGISTRATION = True
    response = client.post(
        reverse("account_signup"),
        {"email": "fresh@example.com", "password1": "a-long-fresh-password", "password2": "a-long-fresh-password"},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")
    assert signed_in_user_id(client) is None
    assert not EmailAddress.objects.get(email="fresh@example.com").verified
    assert "/accounts/confirm-email/" in mail.outbox[0].body


def test_sign_up_is_refused_when_registration_is_closed(client: Client, settings: Any, db: None) -> None:
    settings.ACCOUNT_ALLOW_REGISTRATION = False
    client.post(
        reverse("account_signup"),
        {"email": "closed@example.com", "password1": "a-long-fresh-password", "password2": "a-long-fresh-password"},
    )
    assert not get_user_model().objects.filter(email="closed@example.com").exists()


def test_totp_enrolment_then_sign_in_requires_the_code(client: Client, member: Any) -> None:
    assert client.post(LOGIN, {"login": member.email, "password": PASSWORD}).status_code == 302
    assert client.get(reverse("mfa_activate_totp"))["Location"].startswith(reverse("account_reauthenticate"))
    assert client.post(reverse("account_reauthenticate"), {"password": PASSWORD}).status_code == 302
    page = client.get(reverse("mfa_activate_totp"))
    assert page.status_code == 200
    secret = client.session["mfa.totp.secret"]

    refused = client.post(reverse("mfa_activate_totp"), {"code": "000000" if totp(secret) != "000000" else "111111"})
    assert refused.status_code == 200
    assert not Authenticator.objects.filter(user=member, type=Authenticator.Type.TOTP).exists()

    activated = client.post(reverse("mfa_activate_totp"), {"code": totp(secret)})
    assert activated.status_code == 302
    assert Authenticator.objects.filter(user=member, type=Authenticator.Type.TOTP).exists()

    client.post(reverse("account_logout"))
    assert signed_in_user_id(client) is None

    response = client.post(LOGIN, {"login": member.email, "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_authenticate")
    assert signed_in_user_id(client) is None

    wrong = client.post(reverse("mfa_authenticate"), {"code": "000000" if totp(secret) != "000000" else "111111"})
    assert wrong.status_code == 200
    assert signed_in_user_id(client) is None

    right = client.post(reverse("mfa_authenticate"), {"code": totp(secret)})
    assert right.status_code == 302
    assert signed_in_user_id(client) == member.pk


def test_repeated_wrong_passwords_block_even_the_right_one(client: Client, member: Any) -> None:
    for _ in range(5):
        response = client.post(LOGIN, {"login": member.email, "password": "guess-again"})
        assert response.status_code == 200
        assert signed_in_user_id(client) is None

    blocked = client.post(LOGIN, {"login": member.email, "password": PASSWORD})
    assert signed_in_user_id(client) is None
    assert b"Too many failed login attempts" in blocked.content

    from_elsewhere = Client(REMOTE_ADDR="203.0.113.9")
    blocked_by_key = from_elsewhere.post(LOGIN, {"login": member.email, "password": PASSWORD})
    assert signed_in_user_id(from_elsewhere) is None
    assert b"Too many failed login attempts" in blocked_by_key.content


def test_failed_attempts_for_one_address_do_not_block_another(client: Client, member: Any, owner: Any) -> None:
    for _ in range(4):
        client.post(LOGIN, {"login": member.email, "password": "guess-again"})
    response = client.post(LOGIN, {"login": owner.email, "password": PASSWORD})
    assert response.status_code == 302
    assert signed_in_user_id(client) == owner.pk


def test_the_failed_login_limit_is_counted_in_the_shared_cache(member: Any, own_cache_namespace: str) -> None:
    """The limit must hold across web processes, so it lives in Redis, not in process memory."""
    import redis
    from django.conf import settings

    Client().post(LOGIN, {"login": member.email, "password": "guess-again"})
    connection = redis.Redis.from_url(settings.CACHES["default"]["LOCATION"])
    assert any(own_cache_namespace.encode() in key for key in connection.scan_iter(match=f"*{own_cache_namespace}*"))
