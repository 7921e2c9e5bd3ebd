"""Requests for access keys: asked for by a member, decided by an organization admin, collected once.

An organization whose key policy issues keys at once approves a request as it is made; otherwise
its owners and admins (and platform admins) approve or decline it with a reason, and the requester
is told by e-mail. An approved request is collected once: that makes the key and returns its
secret, and a second collection is refused. A request nobody decides within
``SPACEPORT_KEY_REQUEST_EXPIRY_DAYS`` expires in the workers' sweep. Everything is audited
(``keyrequest.request``, ``.approve``, ``.decline``, ``.withdraw``, ``.collect``, ``.expire``),
never with the secret.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from accessgrants.accesskeys import IssuedKey, expiry_for, issue_key, key_policy
from accessgrants.models import KeyRequest
from portal.audit.models import AuditEvent
from portal.audit.trail import record
from portal.core.errors import AccessDenied, DomainError, NotFound
from portal.tenancy.models import Organization
from portal.tenancy.rules import AccessContext

DECIDERS_ONLY = "Only the organization's owners and admins decide key requests."
AUTOMATIC = "Issued at once by the organization's key policy."


def _audit(action: str, request: KeyRequest, **details: Any) -> None:
    record(
        f"keyrequest.{action}",
        request,
        organization=request.organization,
        details={"requester": request.requester.email, "status": request.status, **details},
    )


def member_organizations(access: AccessContext) -> list[Organization]:
    """The organizations the caller belongs to: where they may hold a key."""
    return [org for org in access.visible_organizations().order_by("name") if access.is_member(org)]


def check_member(access: AccessContext, organization: Organization) -> None:
    if not access.is_member(organization):
        raise DomainError("organization", f"You do not belong to the organization {organization.name}.")


def _tell(request: KeyRequest, subject: str, body: str) -> None:
    """The requester hears of the decision by e-mail; the secret is never in it."""
    link = f"{settings.SPACEPORT_SITE_URL}/keys/" if settings.SPACEPORT_SITE_URL else "/keys/"
    send_mail(
        f"[{settings.SPACEPORT_SITE_NAME}] {subject}",
        f"{body}\n\nYour S3 keys: {link}\n",
        None,
        [request.requester.email],
    )


@transaction.atomic
def request_key(
    access: AccessContext, user: Any, organization: Organization, *, reason: str, lifetime_days: int | None = None
) -> KeyRequest:
    """A member's request; the lifetime is checked against the cap now, not at collection."""
    check_member(access, organization)
    if not reason.strip():
        raise DomainError("reason", "Say what the key is for.")
    expiry_for(organization, lifetime_days)
    request = KeyRequest.objects.create(
        requester=user, organization=organization, reason=reason.strip(), lifetime_days=lifetime_days
    )
    _audit("request", request, lifetime_days=lifetime_days)
    if not key_policy(organization).approval_required:
        request.status = KeyRequest.Status.APPROVED
        request.decided_at = timezone.now()
        request.decision_reason = AUTOMATIC
        request.save(update_fields=["status", "decided_at", "decision_reason"])
        _audit("approve", request, reason=AUTOMATIC)
    return request


def _check_decider(access: AccessContext, request: KeyRequest, action: str) -> None:
    if not access.may_administer(request.organization):
        record(
            f"keyrequest.{action}",
            request,
            organization=request.organization,
            outcome=AuditEvent.Outcome.DENIED,
            details={"reason": "not an admin of the organization"},
        )
        raise AccessDenied(DECIDERS_ONLY)


def _check_open(request: KeyRequest, *allowed: str) -> None:
    if request.status not in allowed:
        raise DomainError("status", f"The request is {request.status}; it cannot be changed now.", "state")


def _locked(request: KeyRequest) -> KeyRequest:
    return KeyRequest.objects.select_for_update().select_related("organization", "requester").get(pk=request.pk)


@transaction.atomic
def approve_request(access: AccessContext, by: Any, request: KeyRequest, *, reason: str = "") -> KeyRequest:
    _check_decider(access, request, "approve")
    request = _locked(request)
    _check_open(request, KeyRequest.Status.REQUESTED)
    request.status = KeyRequest.Status.APPROVED
    request.decided_by = by
    request.decided_at = timezone.now()
    request.decision_reason = reason.strip()
    request.save(update_fields=["status", "decided_by", "decided_at", "decision_reason"])
    _audit("approve", request, reason=request.decision_reason)
    _tell(
        request,
        f"Your S3 key for {request.organization.name} was approved",
        f"{by.email} approved your request. {request.decision_reason}\n"
        "Collect the key once on your S3 keys page; its secret is shown only then.",
    )
    return request


@transaction.atomic
def decline_request(access: AccessContext, by: Any, request: KeyRequest, *, reason: str) -> KeyRequest:
    _check_decider(access, request, "decline")
    if not reason.strip():
        raise DomainError("reason", "Say why the request is declined; the requester is told.")
    request = _locked(request)
    _check_open(request, KeyRequest.Status.REQUESTED)
    request.status = KeyRequest.Status.DECLINED
    request.decided_by = by
    request.decided_at = timezone.now()
    request.decision_reason = reason.strip()
    request.save(update_fields=["status", "decided_by", "decided_at", "decision_reason"])
    _audit("decline", request, reason=request.decision_reason)
    _tell(
        request,
        f"Your S3 key for {request.organization.name} was declined",
        f"{by.email} declined your request: {request.decision_reason}",
    )
    return request


def _check_requester(by: Any, request: KeyRequest) -> None:
    if request.requester_id != by.pk:
        raise AccessDenied("Only the requester may do this with their request.")


@transaction.atomic
def withdraw_request(access: AccessContext, by: Any, request: KeyRequest) -> KeyRequest:
    _check_requester(by, request)
    request = _locked(request)
    _check_open(request, KeyRequest.Status.REQUESTED, KeyRequest.Status.APPROVED)
    request.status = KeyRequest.Status.WITHDRAWN
    request.save(update_fields=["status"])
    _audit("withdraw", request)
    return request


@transaction.atomic
def collect_key(access: AccessContext, by: Any, request: KeyRequest) -> IssuedKey:
    """The approved key, made now, its secret returned this once; a second collection is refused."""
    _check_requester(by, request)
    request = _locked(request)
    if request.status == KeyRequest.Status.ISSUED:
        raise DomainError(
            "status",
            f"The key {request.key.access_key_id if request.key else ''} was collected already; its secret is "
            "shown only once. Rotate or delete it and request another.",
            "collected",
        )
    _check_open(request, KeyRequest.Status.APPROVED)
    check_member(access, request.organization)
    issued = issue_key(
        request.requester,
        request.organization,
        description=request.reason[:200],
        lifetime_days=request.lifetime_days,
    )
    request.status = KeyRequest.Status.ISSUED
    request.key = issued.key
    request.save(update_fields=["status", "key"])
    _audit("collect", request, key_id=issued.access_key)
    return issued


def expire_undecided(now: datetime | None = None) -> int:
    """Close each request still waiting for a decision ``SPACEPORT_KEY_REQUEST_EXPIRY_DAYS`` after it
    was made: an approval weeks later would issue a key for a need that may be gone, and the
    requester's page says it expired, so they ask again if they still need one."""
    now = now or timezone.now()
    days = settings.SPACEPORT_KEY_REQUEST_EXPIRY_DAYS
    undecided = KeyRequest.objects.filter(status=KeyRequest.Status.REQUESTED, created__lte=now - timedelta(days=days))
    why = f"Expired: nobody decided it within {days} day(s). Request again if you still need a key."
    expired = 0
    for request_id in list(undecided.values_list("pk", flat=True)):
        with transaction.atomic():
            # Conditional on the state it was read in: a decision taken meanwhile stands.
            changed = KeyRequest.objects.filter(pk=request_id, status=KeyRequest.Status.REQUESTED).update(
                status=KeyRequest.Status.EXPIRED, decided_at=now, decision_reason=why
            )
            if changed:
                _audit(
                    "expire",
                    KeyRequest.objects.select_related("organization", "requester").get(pk=request_id),
                    days=days,
                )
                expired += changed
    return expired


def organization_for(access: AccessContext, name: str | None) -> Organization:
    """Where a key asked for without a request goes: the organization named, or the caller's only one."""
    mine = member_organizations(access)
    if name:
        found = [org for org in mine if org.name == name]
        if not found:
            raise NotFound(f"You belong to no organization named {name}.")
        return found[0]
    if len(mine) == 1:
        return mine[0]
    if not mine:
        raise DomainError("organization", "You belong to no organization, so no key can be made for you.")
    names = ", ".join(org.name for org in mine)
    raise DomainError("organization", f"You belong to several organizations ({names}); name one in 'organization'.")


def approval_message(organization: Organization) -> str:
    link = f"{settings.SPACEPORT_SITE_URL}/keys/" if settings.SPACEPORT_SITE_URL else "/keys/"
    return (
        f"Keys of the organization {organization.name} are issued on approval: request one at {link} "
        "or with POST /api/v1/key-requests/."
    )


def issue_directly(
    access: AccessContext,
    user: Any,
    organization: Organization,
    *,
    description: str = "",
    lifetime_days: int | None = None,
) -> IssuedKey:
    """A key without a request, where the organization's key policy issues them at once (403 otherwise)."""
    check_member(access, organization)
    if key_policy(organization).approval_required:
        record(
            "accesskey.issue",
            organization,
            organization=organization,
            outcome=AuditEvent.Outcome.DENIED,
            details={"user": user.email, "reason": "approval required"},
        )
        raise AccessDenied(approval_message(organization), code="approval_required")
    return issue_key(user, organization, description=description, lifetime_days=lifetime_days)
