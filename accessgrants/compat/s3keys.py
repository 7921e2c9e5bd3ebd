"""VAST's ``/api/s3keys/``: a user makes or deletes their own S3 key pair, answered as VAST does.

``POST`` answers ``{"access_key": ..., "secret_key": ...}`` with 200 (the reference's client checks
for exactly that), a key past the limit ``{"detail": "A user cannot have more than two access
keys"}`` with 400; ``DELETE`` with ``{"access_key": ...}`` removes one of the caller's keys (another
user's answers 404). Callers sign in with HTTP Basic (local accounts), a personal API token, a
bearer JWT, or a browser session (with its CSRF token); the body may be JSON or a form. Errors
keep VAST's ``{"detail": ...}`` shape rather than the native API's.

The key goes to the caller's only organization, or the one named in ``organization``; where that
organization issues keys only on approval, 403 says where to request one.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.authentication import BasicAuthentication, SessionAuthentication
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import exception_handler

from accessgrants.accesskeys import delete_key, key_of
from accessgrants.keyrequests import issue_directly, organization_for
from portal.auth.authentication import ApiTokenAuthentication, OidcBearerAuthentication
from portal.core.errors import DomainError
from portal.tenancy.scoped import AccessScope, ScopedApiView
from portal.web.api.parsers import BoundedJSONParser


def _vast_errors(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DomainError):
        return Response({"detail": exc.message}, status=exc.status)
    return exception_handler(exc, context)


@extend_schema(exclude=True)
class S3KeysView(ScopedApiView):
    access_scope = AccessScope.VISIBLE
    authentication_classes = [
        BasicAuthentication,
        ApiTokenAuthentication,
        OidcBearerAuthentication,
        SessionAuthentication,
    ]
    parser_classes = [BoundedJSONParser, FormParser, MultiPartParser]
    audit_name = "accesskey"

    def get_exception_handler(self) -> Any:
        return _vast_errors

    def _organization_name(self, request: Request) -> str | None:
        value = request.data.get("organization") if hasattr(request.data, "get") else None
        return str(value or request.query_params.get("organization") or "") or None

    def post(self, request: Request) -> Response:
        organization = organization_for(self.access, self._organization_name(request))
        issued = issue_directly(self.access, request.user, organization, description="made through /api/s3keys/")
        return Response({"access_key": issued.access_key, "secret_key": issued.secret_key}, status=status.HTTP_200_OK)

    def delete(self, request: Request) -> Response:
        access_key = request.data.get("access_key") if hasattr(request.data, "get") else None
        if not access_key:
            return Response({"detail": "Name the key to delete in 'access_key'."}, status=status.HTTP_400_BAD_REQUEST)
        key = key_of(request.user, str(access_key))
        delete_key(key.pk)
        return Response(status=status.HTTP_204_NO_CONTENT)
