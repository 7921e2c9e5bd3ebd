"""Tenancy, audit and API token models."""

from portal.models.audit import AuditEvent
from portal.models.tenancy import (
    LOADINGZONE,
    Confidentiality,
    Organization,
    Space,
    State,
)
from portal.models.tokens import ApiToken

__all__ = ["LOADINGZONE", "ApiToken", "AuditEvent", "Confidentiality", "Organization", "Space", "State"]
