"""The issuer's public documents: what AWS and Google fetch to check Spaceport's tokens.

Both are public by design (they hold only public keys) and answer without a session.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from portal.auth import issuer

CACHE_SECONDS = 300


def _published(build: Callable[[], dict[str, Any]]) -> JsonResponse:
    try:
        document = build()
    except issuer.IssuerNotConfiguredError as exc:
        return JsonResponse({"detail": str(exc), "code": "issuer_not_configured"}, status=503)
    response = JsonResponse(document)
    response["Cache-Control"] = f"public, max-age={CACHE_SECONDS}"
    return response


@require_GET
def openid_configuration(request: HttpRequest) -> JsonResponse:
    return _published(issuer.discovery_document)


@require_GET
def jwks(request: HttpRequest) -> JsonResponse:
    return _published(issuer.key_set)
