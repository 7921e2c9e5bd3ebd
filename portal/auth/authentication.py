"""API authentication: personal tokens (``Authorization: Token ...``) and OIDC bearer JWTs."""

from __future__ import annotations

from typing import Any, ClassVar

from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.request import Request

from portal.auth.models import ApiToken, hash_token


class ApiTokenAuthentication(BaseAuthentication):
    keyword = "Token"

    def authenticate(self, request: Request) -> tuple[Any, ApiToken] | None:
        header = get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Send the token as 'Authorization: Token <key>'.")
        try:
            key = header[1].decode()
        except UnicodeDecodeError as exc:
            raise exceptions.AuthenticationFailed("The token is not valid.") from exc
        token = ApiToken.objects.select_related("user").filter(key_hash=hash_token(key)).first()
        if token is None or token.is_expired or not token.user.is_active:
            raise exceptions.AuthenticationFailed("The token is not valid or has expired.")
        now = timezone.now()
        if token.last_used is None or (now - token.last_used).total_seconds() > 60:
            ApiToken.objects.filter(pk=token.pk).update(last_used=now)
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        return self.keyword


class OidcBearerAuthentication(BaseAuthentication):
    """Bearer JWTs from the configured OIDC issuer; see ``portal.auth.bearer``."""

    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        header = get_authorization_header(request).split()
        if not header or header[0].lower() != b"bearer":
            return None
        from portal.auth.bearer import authenticate_bearer

        return authenticate_bearer(header)

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="spaceport"'


class _DocumentedScheme(OpenApiAuthenticationExtension):
    """How the API schema describes one way of authenticating: a fixed OpenAPI security scheme.

    Without a ``target_class`` it matches no authentication class, so only its subclasses count.
    """

    definition: ClassVar[dict[str, Any]] = {}

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return dict(self.definition)


class ApiTokenScheme(_DocumentedScheme):
    target_class = "portal.auth.authentication.ApiTokenAuthentication"
    name = "apiToken"
    definition = {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": "A personal API token, sent as 'Authorization: Token spt_...'.",
    }


class OidcBearerScheme(_DocumentedScheme):
    target_class = "portal.auth.authentication.OidcBearerAuthentication"
    name = "oidcBearer"
    definition = {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "An access token from the configured OpenID Connect provider.",
    }
