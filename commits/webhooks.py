"""Telling an organization's own systems that a commit finished, with a body they can trust.

The body is stored with the delivery, so every retry sends the same bytes. It is signed with
HMAC-SHA256 under the organization's secret over ``"<timestamp>.<body>"``; the receiver recomputes
it from the ``X-Spaceport-Timestamp`` header and the raw body, compares in constant time, and
refuses old timestamps, which stops replays.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import secrets
import time
from typing import Any
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from commits.models import Commit, OrganizationWebhook, WebhookDelivery
from connections import storage
from portal.audit.trail import record
from portal.core.errors import DomainError
from portal.core.printable import has_control_characters

EVENT = "commit.finish"
SIGNATURE_HEADER = "X-Spaceport-Signature"
TIMESTAMP_HEADER = "X-Spaceport-Timestamp"
RETRY_STATUSES = frozenset({408, 425, 429})
MIN_SECRET_LENGTH = 16
MAX_URL_LENGTH = 2000


class DeliveryFailed(Exception):
    """The receiver could not be reached or answered with an error worth retrying."""


class AttemptTaken(Exception):
    """Another run (a second copy of the task) claimed this attempt, or settled the delivery, first."""


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def sign(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def payload(commit: Commit) -> dict[str, Any]:
    return {
        "event": EVENT,
        "id": commit.pk,
        "organization": commit.organization.name,
        "space": commit.space.name,
        "rootDir": commit.root_dir,
        "user": commit.user_label or None,
        "state": commit.state,
        "counts": commit.counts,
        "finished": commit.finished.isoformat() if commit.finished else None,
    }


def notify(commit: Commit) -> WebhookDelivery | None:
    """Record a delivery if the organization has an enabled webhook (:mod:`commits.queue` sends it)."""
    hook = OrganizationWebhook.objects.filter(organization_id=commit.organization_id, enabled=True).first()
    if hook is None:
        return None
    body = json.dumps(payload(commit), sort_keys=True, separators=(",", ":"))
    delivery = WebhookDelivery.objects.create(
        organization_id=commit.organization_id, commit=commit, event=EVENT, body=body
    )
    return delivery


def check_url(url: str) -> None:
    """Refuse what a webhook must not target: other schemes, names that do not resolve, and any
    address the outbound address policy refuses; plain http only in development or to a network
    the operator allowed."""
    if len(url) > MAX_URL_LENGTH:
        raise DomainError("url", f"Use a URL of at most {MAX_URL_LENGTH} characters.", "url_too_long")
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise DomainError("url", "Use an http(s) URL.", "invalid_url")
    try:
        destinations = storage.vet(parts.hostname, storage.port_of(parts, default=True, strict=True))
    except ValueError:
        raise DomainError("url", "The URL's port is not a number between 0 and 65535.", "invalid_url") from None
    except storage.AddressRefused as exc:
        raise DomainError("url", exc.message, exc.code) from None
    except OSError:
        raise DomainError("url", f"The host {parts.hostname} cannot be resolved.", "unresolvable_url") from None
    internal = all(storage.allowed(ipaddress.ip_address(d.address)) for d in destinations)
    if parts.scheme == "http" and not settings.DEBUG and not internal:
        raise DomainError("url", "Use an https URL.", "insecure_url")


def deliver(delivery: WebhookDelivery, *, final: bool) -> bool:
    """Send once; True when delivered. Raises :class:`DeliveryFailed` for what may pass with time, and
    :class:`AttemptTaken` when another run took this attempt (each attempt is claimed on its count)."""
    hook = OrganizationWebhook.objects.filter(organization_id=delivery.organization_id).first()
    if hook is None or not hook.enabled:
        _settle(delivery, WebhookDelivery.State.FAILED, error="The webhook was removed or disabled.")
        return False
    body = delivery.body.encode()
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Spaceport-Webhook",
        "X-Spaceport-Event": delivery.event,
        "X-Spaceport-Delivery": str(delivery.pk),
        TIMESTAMP_HEADER: timestamp,
    }
    secret = (hook.secret or {}).get("secret", "")
    if secret:
        headers[SIGNATURE_HEADER] = sign(secret, timestamp, body)
    if not WebhookDelivery.objects.filter(
        pk=delivery.pk, state=WebhookDelivery.State.PENDING, attempts=delivery.attempts
    ).update(attempts=delivery.attempts + 1):
        raise AttemptTaken(f"delivery {delivery.pk} attempt {delivery.attempts + 1} is another run's")
    delivery.attempts += 1
    try:
        check_url(hook.url)
        with storage.guarded_session() as session:
            response = session.post(
                hook.url, data=body, headers=headers, timeout=settings.SPACEPORT_WEBHOOK_TIMEOUT, allow_redirects=False
            )
    except (DomainError, storage.AddressRefused) as exc:
        _settle(delivery, WebhookDelivery.State.FAILED, error=exc.message)
        return False
    except requests.RequestException as exc:
        return _retry_or_fail(delivery, f"{type(exc).__name__} reaching the webhook.", None, final)
    if 200 <= response.status_code < 300:
        _settle(delivery, WebhookDelivery.State.DELIVERED, status=response.status_code)
        return True
    message = f"The webhook answered {response.status_code}."
    if response.status_code >= 500 or response.status_code in RETRY_STATUSES:
        return _retry_or_fail(delivery, message, response.status_code, final)
    _settle(delivery, WebhookDelivery.State.FAILED, status=response.status_code, error=message)
    return False


def _retry_or_fail(delivery: WebhookDelivery, message: str, status: int | None, final: bool) -> bool:
    if final:
        _settle(delivery, WebhookDelivery.State.FAILED, status=status, error=message)
        return False
    WebhookDelivery.objects.filter(pk=delivery.pk).update(response_status=status, error=message)
    raise DeliveryFailed(message)


def _settle(delivery: WebhookDelivery, state: str, *, status: int | None = None, error: str = "") -> None:
    delivered = timezone.now() if state == WebhookDelivery.State.DELIVERED else None
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        state=state, response_status=status, error=error, delivered=delivered
    )
    delivery.state, delivery.response_status, delivery.error = state, status, error


def configure(
    organization: Any, *, url: str, secret: str | None, enabled: bool = True, generate: bool = True
) -> tuple[OrganizationWebhook, str]:
    """Set the organization's webhook; with ``generate``, a secret is made when none is given or stored yet.

    Returns the webhook and the secret when it was generated here (for the API to show once), else "".
    """
    check_url(url)
    if secret is not None and len(secret) < MIN_SECRET_LENGTH:
        raise DomainError("secret", f"Use a secret of at least {MIN_SECRET_LENGTH} characters.", "secret_too_short")
    if secret is not None and has_control_characters(secret):
        raise DomainError(
            "secret",
            "Remove the control characters (such as NUL or a line break) from the secret.",
            "secret_unprintable",
        )
    hook = OrganizationWebhook.objects.filter(organization=organization).first() or OrganizationWebhook(
        organization=organization
    )
    generated = ""
    had_secret = hook.has_secret
    if secret:
        hook.secret = {"secret": secret}
    elif not had_secret:
        if not generate:
            raise DomainError("secret", "Enter the secret that signs the deliveries.", "secret_required")
        generated = new_secret()
        hook.secret = {"secret": generated}
    hook.url, hook.enabled = url, enabled
    with transaction.atomic():
        hook.save()
        if secret or generated:
            _record_secret_change(hook, replaced=had_secret, generated=bool(generated))
    return hook, generated


def _record_secret_change(hook: OrganizationWebhook, *, replaced: bool, generated: bool) -> None:
    """The signing secret is masked in the model's own audit events, so its change gets one of its own.

    Receivers trust deliveries signed with it, so who changed it and when matters; the value never
    appears on the trail.
    """
    record(
        "webhook.secret_change",
        hook,
        details={"replaced": replaced, "generated": generated, "url": hook.url},
        target_label=f"webhook of {hook.organization.name}",
    )
