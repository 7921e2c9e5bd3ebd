"""allauth adapters: sign-up policy for local accounts, and what happens at a single sign-on."""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django.conf import settings
from django.http import HttpRequest, HttpResponse

from portal.auth.sso import sign_in_from_provider


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return bool(settings.ACCOUNT_ALLOW_REGISTRATION)

    def post_login(self, request: HttpRequest, user: Any, **kwargs: Any) -> HttpResponse:
        """Synchronize SSO grants once every sign-in stage (e-mail, MFA) has passed."""
        sociallogin = (kwargs.get("signal_kwargs") or {}).get("sociallogin")
        if sociallogin is not None and sociallogin.account.provider == settings.OIDC_PROVIDER_ID:
            sign_in_from_provider(user, sociallogin.account.extra_data or {}, provider_id=settings.OIDC_PROVIDER_ID)
        return super().post_login(request, user, **kwargs)


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest, sociallogin: object) -> bool:
        """People from the configured identity provider get an account on first sign-in."""
        return True
