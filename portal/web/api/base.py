"""What every Spaceport API view shares: bounded JSON bodies, the error answers, recorded refusals.

The caller's access is tenancy's: :mod:`portal.tenancy.access` adds it to these bases.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import models
from django.http import Http404
from rest_framework import viewsets
from rest_framework.permissions import SAFE_METHODS
from rest_framework.views import APIView

from portal.audit.models import AuditEvent
from portal.audit.trail import record
from portal.core.errors import AccessDenied
from portal.web.api.parsers import BoundedJSONParser
from portal.web.api.schema import PortalAutoSchema

VERBS = {"create": "create", "update": "update", "partial_update": "update", "destroy": "delete"}


def refuse(
    action: str,
    target: models.Model | None = None,
    *,
    organization: Any = None,
    message: str = "You may not do this.",
    details: Mapping[str, Any] | None = None,
) -> AccessDenied:
    """Put a refused write on the audit trail, and hand back the exception that answers it."""
    record(action, target, outcome=AuditEvent.Outcome.DENIED, organization=organization, details=details)
    return AccessDenied(message)


class BaseApiView(APIView):
    """A plain API view with bounded JSON bodies."""

    parser_classes = [BoundedJSONParser]
    schema = PortalAutoSchema()


class BaseViewSet(viewsets.GenericViewSet):
    """The base of the API's model views.

    ``audit_name`` names refused writes on the trail (``space.update``), like the model signals do
    for the writes that happen. A write aimed at an object the caller may not see answers 404, as a
    read would, but the attempt is still recorded when the object exists.
    """

    parser_classes = [BoundedJSONParser]
    schema = PortalAutoSchema()
    audit_name = ""

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
