"""Writing the audit trail.

Every create, update and delete of an audited model is recorded from model signals, so the
API, the pages and the admin are covered alike; domain code records everything else
(credential issuance, refusals, commits) with :func:`record`. Details always pass through
:func:`mask_secrets` first.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, TypedDict, Unpack, cast

from django.db import models
from django.utils import timezone

from portal.audit.context import client_ip, current_request_id
from portal.audit.models import AuditEvent
from portal.core import snapshots
from portal.core.requests import current_request

MASK = "********"
_SECRET_KEY = re.compile(
    r"secret|password|passwd|token|api[_-]?key|private[_-]?key|credential|connection[_-]?string|"
    r"sas|signature|authorization|cookie|session|access[_-]?key|account[_-]?key|key_hash|hmac|(?:^|[_-])key$",
    re.IGNORECASE,
)
_SECRET_VALUE = re.compile(
    r"(AccountKey=|SharedAccessSignature=|sig=|-----BEGIN [A-Z ]*PRIVATE KEY-----|spt_[A-Za-z0-9_-]{20,})",
)


def mask_secrets(value: Any, key: str = "") -> Any:
    """Replace anything that looks like a secret, by its key or by its shape, with a mask."""
    if key and _SECRET_KEY.search(key):
        return MASK if value not in (None, "", [], {}) else value
    if isinstance(value, Mapping):
        return {str(k): mask_secrets(v, str(k)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [mask_secrets(item) for item in value]
    if isinstance(value, str) and _SECRET_VALUE.search(value):
        return MASK
    return value


def _actor() -> tuple[Any, str]:
    request = current_request.get()
    user = getattr(request, "user", None) if request is not None else None
    if user is not None and getattr(user, "is_authenticated", False):
        return user, str(getattr(user, "email", "") or user)
    return None, ""


def organization_model() -> type[models.Model]:
    """The organization model, found through the event's foreign key.

    The trail sits below tenancy, so it knows organizations only as what its events point at.
    """
    return cast("type[models.Model]", AuditEvent._meta.get_field("organization").related_model)


def organization_of(target: models.Model | None) -> Any:
    """The organization an object belongs to, for filtering the trail by organization."""
    if target is None:
        return None
    Organization = organization_model()
    if isinstance(target, Organization):
        return target
    for attribute in ("organization", "space"):
        related = getattr(target, attribute, None)
        if isinstance(related, Organization):
            return related
        if related is not None and isinstance(getattr(related, "organization", None), Organization):
            return related.organization
    return None


def event(
    action: str,
    target: models.Model | None = None,
    *,
    outcome: str = AuditEvent.Outcome.SUCCESS,
    details: Mapping[str, Any] | None = None,
    organization: Any = None,
    actor: Any = None,
    target_label: str = "",
    link_organization: bool = True,
    actor_label: str = "",
) -> AuditEvent:
    """One audit event, not yet saved, taking actor, address and request id from the current request.

    ``link_organization=False`` keeps only the organization's name, for events written while
    the organization itself is being deleted; ``actor_label`` names who acted outside a request
    (an operator running a management command).
    """
    request = current_request.get()
    request_actor, label = _actor()
    actor = actor if actor is not None else request_actor
    if actor is not None and not label:
        label = str(getattr(actor, "email", "") or actor)
    label = actor_label or label
    organization = organization or organization_of(target)
    return AuditEvent(
        time=timezone.now(),
        actor=actor,
        actor_label=label,
        action=action,
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None and target.pk is not None else "",
        target_label=target_label or (str(target) if target is not None else "")[:300],
        organization=organization if link_organization and organization is not None and organization.pk else None,
        organization_name=organization.name if organization is not None else "",
        outcome=outcome,
        ip_address=client_ip(request) if request is not None else None,
        request_id=current_request_id.get() if request is not None else "",
        details=mask_secrets(dict(details or {})),
    )


class EventOptions(TypedDict, total=False):
    outcome: str
    details: Mapping[str, Any] | None
    organization: Any
    actor: Any
    target_label: str
    link_organization: bool
    actor_label: str


def record(action: str, target: models.Model | None = None, **options: Unpack[EventOptions]) -> AuditEvent:
    """Write one audit event now, in the current transaction (see :func:`event` for the options).

    A request that decided on an assumed snapshot version confirms it first (:mod:`snapshots`).
    """
    snapshots.confirm()
    written = event(action, target, **options)
    written.save(force_insert=True)
    return written
