"""Issuing a credential: check the rules, pick the connection, reuse a cached one, audit.

The cache key holds everything that goes into the token (connection and its version,
location, access level, lifetime, object keys, and the person for per-person credentials),
so a reader can never be handed a writer's token: AccessManager cached by organization and
space only and stored delete tokens under the read type.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from accessgrants.vending.metrics import counted
from connections.models import CloudConnection, Status
from connections.storage import (
    Access,
    Credential,
    NotVendable,
    Scope,
    Target,
    active_connection,
    location_for,
    per_user,
    vendor_for,
)
from portal.audit.journal import counted_and_held, journal, journal_within_limit
from portal.audit.models import AuditEvent
from portal.audit.trail import event
from portal.core import crypto
from portal.core.cache import ProcessMemory
from portal.core.errors import AccessDenied, DomainError
from portal.tenancy.models import LOADINGZONE, Space
from portal.tenancy.rules import AccessContext

CACHE_PREFIX = "vend:"
RATE_WINDOW_SECONDS = 70

_recent: ProcessMemory[str, str] = ProcessMemory(
    "issued credentials",
    entries=1024,
    secrets="a cached vend answers from here with no Redis read and no decryption, the hot path of "
    "credential requests; each entry is a credential its caller receives anyway, found only under the "
    "hash of everything that went into it, and dropped once it nears its expiry",
)


class RateLimited(DomainError):
    status = 429

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            "non_field_errors", f"Too many credentials requested; try again in {retry_after} s.", "throttled"
        )
        self.retry_after = retry_after


@dataclass
class Issued:
    """A credential and how it came: from the cache or new, for which space, through which provider.

    ``space`` is the space asked for and ``opened`` the one the credential opens (the loadingzone for
    an upload); both are what a repeated request's plan is made of (:mod:`accessgrants.vending.plans`).
    """

    credential: Credential
    cached: bool
    space: Space | None = None
    opened: Space | None = None
    provider: str = ""


def default_lifetime(access: str) -> timedelta:
    return timedelta(minutes=settings.SPACEPORT_CREDENTIAL_LIFETIME_MINUTES[access])


def max_lifetime(access: str) -> timedelta:
    return timedelta(minutes=settings.SPACEPORT_CREDENTIAL_MAX_LIFETIME_MINUTES[access])


def longest_lifetime_minutes() -> int:
    """The longest lifetime any access level allows: a request beyond it is refused before any date
    arithmetic, where 2**63 minutes used to overflow into a 500."""
    return max(settings.SPACEPORT_CREDENTIAL_MAX_LIFETIME_MINUTES.values())


def check_access(context: AccessContext, space: Space, access: str, target: str) -> Space:
    """The space whose storage the credential opens, once the rules allow it.

    ``target=loadingzone`` is AccessManager's upload: write on the named space opens the
    organization's loadingzone. Reading or deleting there follows the loadingzone rule.
    """
    if target == Target.LOADINGZONE and not space.is_loadingzone:
        loadingzone = Space.objects.select_related("organization").get(
            organization=space.organization, name=LOADINGZONE
        )
        allowed = {
            Access.READ: lambda: context.may_read(loadingzone),
            Access.WRITE: lambda: context.may_write(space),
            Access.DELETE: lambda: context.may_delete(loadingzone),
        }[Access(access)]()
        opened = loadingzone
    else:
        allowed = {
            Access.READ: context.may_read,
            Access.WRITE: context.may_write,
            Access.DELETE: context.may_delete,
        }[Access(access)](space)
        opened = space
    if not allowed:
        raise AccessDenied(f"You may not {access} in {space.organization.name}/{space.name}.", code=f"{access}_denied")
    return opened


def connection_of(space: Space) -> CloudConnection:
    connection = active_connection(space.organization)
    if connection is None:
        raise NotVendable("organization", "The organization has no storage connected yet.", "no_connection")
    if connection.status == Status.DISABLED:
        raise NotVendable("connection", "The organization's storage connection is disabled.", "connection_disabled")
    if connection.status in (Status.DRAFT, Status.INVALID):
        raise NotVendable(
            "connection",
            f"The organization's storage connection is {connection.status}; an admin must fix and validate it.",
            f"connection_{connection.status}",
        )
    return connection


def rate_window(user_id: int) -> tuple[str, int]:
    """The user's counter for the current minute, and the seconds until the next one starts."""
    now = timezone.now().timestamp()
    return f"vend-rate:{user_id}:{int(now // 60)}", 60 - int(now) % 60


def _throttled(space: Space, access: str, target: str, provider: str, retry_after: int) -> RateLimited:
    """The refusal of a request past the rate limit, audited and counted; refused requests count
    against the limit too, so hammering does not help."""
    journal("credential.refuse", space, **refusal_options(access, target, "throttled"))
    counted("refused", provider)
    return RateLimited(retry_after=retry_after)


def cache_key(scope: Scope, per_user: bool) -> str:
    parts = {
        "connection": scope.connection.pk,
        "version": scope.connection.modified.isoformat(),
        "bucket": scope.location.bucket,
        "prefix": scope.location.prefix,
        "access": scope.access,
        "lifetime": int(scope.lifetime.total_seconds()),
        "objects": list(scope.object_keys),
        "user": scope.user_id if per_user else None,
    }
    return CACHE_PREFIX + hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def _remembered(key: str, min_remaining: timedelta | None = None) -> Credential | None:
    """A credential this process issued or read under ``key``, decrypted, with time enough left:
    a warm request needs no round trip and no decryption."""
    text = _recent.get(_recent.key(key))
    return None if text is None else _usable(key, text, min_remaining)


def _held(key: str, token: Any, min_remaining: timedelta | None = None) -> Credential | None:
    """A credential the shared cache held (encrypted, like secrets at rest), if it can still be used."""
    try:
        text = crypto.decrypt(token)
    except (crypto.DecryptionError, TypeError):
        return None
    return _usable(key, text, min_remaining)


def _usable(key: str, text: str, min_remaining: timedelta | None) -> Credential | None:
    """The credential, kept in the process, if more than the buffer (and the caller's
    ``min_remaining``) is left; None otherwise."""
    local_key = _recent.key(key)
    try:
        credential = Credential.from_json(text)
    except (ValueError, KeyError, TypeError):
        return None
    buffer = timedelta(minutes=settings.SPACEPORT_CREDENTIAL_CACHE_BUFFER_MINUTES)
    remaining = credential.remaining(timezone.now())
    if remaining <= buffer:
        _recent.forget(local_key)
        return None
    if min_remaining is not None and remaining <= min_remaining:
        return None
    _recent.put(local_key, text)
    return credential


def _store(key: str, credential: Credential) -> None:
    buffer = timedelta(minutes=settings.SPACEPORT_CREDENTIAL_CACHE_BUFFER_MINUTES)
    timeout = int((credential.remaining(timezone.now()) - buffer).total_seconds())
    if timeout > 0:
        text = credential.to_json()
        cache.set(key, crypto.encrypt(text), timeout)
        _recent.put(_recent.key(key), text)


def _checked_lifetime(access: str, lifetime: timedelta | None) -> timedelta:
    if lifetime is None:
        return default_lifetime(access)
    if lifetime <= timedelta(0) or lifetime > max_lifetime(access):
        raise DomainError(
            "lifetime_minutes",
            f"Choose a lifetime between 1 and {int(max_lifetime(access).total_seconds() // 60)} minutes "
            f"for {access} access.",
            "lifetime_out_of_range",
        )
    return lifetime


def refusal_options(access: str, target: str, reason: str) -> dict[str, Any]:
    return {
        "outcome": AuditEvent.Outcome.DENIED,
        "details": {"access": access, "target": target, "reason": reason},
    }


def issuance_options(space: Space, access: str, target: str, credential: Credential, cached: bool) -> dict[str, Any]:
    return {
        "details": {
            "access": access,
            "target": target,
            "space": space.name,
            "provider": credential.provider,
            "kind": credential.kind,
            "expires_at": credential.expires_at.isoformat(),
            "cached": cached,
        }
    }


def issue(
    context: AccessContext,
    space: Space,
    *,
    access: str,
    user: Any,
    target: str = Target.SPACE,
    lifetime: timedelta | None = None,
    object_keys: tuple[str, ...] = (),
    min_remaining: timedelta | None = None,
) -> Issued:
    """Issue (or reuse) a credential for ``access`` on ``space``; refusals are audited too.

    ``min_remaining`` is for tools that refresh a set time before expiry (botocore: 15 minutes): a
    cached credential closer to its end than that would send them straight back for another.

    A credential this process holds costs one Redis call, for its rate limit and its audit event
    together (:func:`journal_within_limit`). Otherwise one call counts the request against the rate
    limit and looks in the shared cache (:func:`counted_and_held`), so a new credential is
    rate-limited before the provider is asked, and one more writes the audit entry. A throttled
    request is audited as a refusal.
    """
    try:
        opened = check_access(context, space, access, target)
        connection = connection_of(space)
        lifetime = _checked_lifetime(access, lifetime)
    except DomainError as exc:
        journal("credential.refuse", space, **refusal_options(access, target, exc.code))
        counted("refused")
        raise
    scope = Scope(
        connection=connection,
        location=location_for(connection, opened.name),
        access=access,
        lifetime=lifetime,
        user_id=user.pk,
        user_label=str(getattr(user, "email", "") or user),
        object_keys=object_keys,
    )
    key = cache_key(scope, per_user(connection))
    counter, retry_after = rate_window(user.pk)
    limit = settings.SPACEPORT_CREDENTIAL_RATE_LIMIT_PER_MINUTE
    credential = _remembered(key, min_remaining)
    if credential is not None:
        issuance = issuance_options(space, access, target, credential, cached=True)
        count = journal_within_limit(
            counter, RATE_WINDOW_SECONDS, limit, allowed=event("credential.issue", opened, **issuance)
        )
        if count > limit:
            raise _throttled(space, access, target, connection.provider, retry_after)
        counted("cached", connection.provider)
        return Issued(credential, cached=True, space=space, opened=opened, provider=connection.provider)
    looked = counted_and_held(counter, key, RATE_WINDOW_SECONDS)
    if looked.count > limit:
        raise _throttled(space, access, target, connection.provider, retry_after)
    credential = _held(key, looked.held, min_remaining) if looked.held is not None else None
    if credential is not None:
        journal("credential.issue", opened, **issuance_options(space, access, target, credential, cached=True))
        counted("cached", connection.provider)
        return Issued(credential, cached=True, space=space, opened=opened, provider=connection.provider)
    try:
        credential = vendor_for(connection).vend(scope)
    except DomainError as exc:
        journal("credential.refuse", opened, **refusal_options(access, target, exc.code))
        counted("refused", connection.provider)
        raise
    _store(key, credential)
    journal("credential.issue", opened, **issuance_options(space, access, target, credential, cached=False))
    counted("issued", connection.provider)
    return Issued(credential, cached=False, space=space, opened=opened, provider=connection.provider)
