"""What every Spaceport API view shares: bounded JSON bodies, the caller's access, recorded refusals."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import models
from django.http import Http404
from rest_framework import viewsets
from rest_framework.permissions import SAFE_METHODS
from rest_framework.views import APIView

from accessgrants.rules import AccessContext
from portal.access import access_for
from portal.api.parsers import BoundedJSONParser
from portal.api.schema import PortalAutoSchema
from portal.audit import record
from portal.errors import AccessDenied
from portal.models import AuditEvent, Organization

VERBS = {"create": "create", "update": "update", "partial_update": "update", "destroy": "delete"}


def refuse(
    action: str,
    target: models.Model | None = None,
    *,
    organization: Organization | None = None,
    message: str = "You may not do this.",
    details: Mapping[str, Any] | None = None,
) -> AccessDenied:
    """Put a refused write on the audit trail, and hand back the exception that answers it."""
    record(action, target, outcome=AuditEvent.Outcome.DENIED, organization=organization, details=details)
    return AccessDenied(message)


class PortalApiView(APIView):
    """A plain API view with bounded JSON bodies and the caller's access."""

    parser_classes = [BoundedJSONParser]
    schema = PortalAutoSchema()

    @property
    def access(self) -> AccessContext:
        return access_for(self.request)


class PortalViewSet(viewsets.GenericViewSet):
    """The base of the API's model views.

    ``audit_name`` names refused writes on the trail (``space.update``), like the model signals do
    for the writes that happen. A write aimed at an object the caller may not see answers 404, as a
    read would, but the attempt is still recorded when the object exists.
    """

    parser_classes = [BoundedJSONParser]
    schema = PortalAutoSchema()
    audit_name = ""

    @property
    def access(self) -> AccessContext:
        return access_for(self.request)

    @property
    def caller(self) -> Any:
        """The signed-in user: every view here requires one, so the anonymous case never reaches a query."""
        return self.request.user

    def audit_action(self) -> str:
        verb = VERBS.get(self.action or "", self.action or "write")
        return f"{self.audit_name}.{verb}"

    def is_write(self) -> bool:
        return self.request.method not in SAFE_METHODS

    def hidden_object(self) -> models.Model | None:
        """The object a write was aimed at though the caller may not see it, if it exists."""
        return None

    def record_hidden_write(self) -> None:
        """Called when a write answers 404: the attempt goes on the trail if its target exists."""
        if self.is_write():
            hidden = self.hidden_object()
            if hidden is not None:
                refuse(self.audit_action(), hidden, details={"reason": "not visible"})

    def get_object(self) -> Any:
        try:
            return super().get_object()
        except Http404:
            self.record_hidden_write()
            raise
