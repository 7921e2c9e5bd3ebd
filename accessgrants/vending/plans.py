"""Repeated credential requests: what a vend decided, kept per process under the snapshot version it decided on.

A client asks for the same credential many times a minute, and while nothing that can affect access
changes, every answer is the same: the rules allow it, the space and its connection are the same, the
credential is the one in the cache, and its audit entry differs only in the request's time, address
and id. Anything that can change the answer starts a new access snapshot version
(:mod:`portal.core.snapshots`), so a plan is kept under the version it was decided on, for one
principal (user, superuser flag and the role claims their token carried), organization, space,
access and target. A request that finds one goes straight to the Redis script that confirms the
version, counts the rate limit and journals the issuance in one round trip; when the version has
moved, the script does nothing and the request starts over on the current version, where no plan is
kept yet, so a revoked grant is still refused at the next request. Only successful vends are
planned: every refusal takes the full path and is audited as before.

A plan is for the default lifetime over the whole space, the AccessManager endpoints' only form;
it ends when its credential nears its expiry, and the next request vends as usual.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from accessgrants.vending.issuing import (
    RATE_WINDOW_SECONDS,
    Issued,
    RateLimited,
    issuance_options,
    rate_window,
    refusal_options,
)
from accessgrants.vending.metrics import counted
from connections.storage import Credential
from portal.audit.journal import EventTemplate, journal_again, journal_within_limit
from portal.audit.trail import event
from portal.core import snapshots
from portal.core.cache import ProcessMemory

PlanKey = tuple[Any, ...]


@dataclass(frozen=True)
class Plan:
    """A decided vend: the credential it answers with and its audit entries, ready to write again."""

    provider: str
    credential: str
    expires_at: datetime
    issuance: EventTemplate
    throttled: EventTemplate


_plans: ProcessMemory[PlanKey, Plan] = ProcessMemory(
    "vend plans",
    entries=1024,
    secrets="a repeated credential request answers from here with no decision, cache read or decryption; "
    "each entry is a credential its principal receives anyway, kept under the snapshot version that allowed "
    "it, and left behind once it nears its expiry",
)


def plan_key(user: Any, auth: Any, organization_name: str, space_name: str, access: str, target: str) -> PlanKey:
    """Everything a vend's answer depends on, with the snapshot version this request decides on."""
    facts = tuple(getattr(auth, "role_facts", ()) or ())
    return (
        snapshots.version(),
        user.pk,
        user.is_superuser,
        facts,
        organization_name.lower(),
        space_name.lower(),
        access,
        target,
    )


def remembered(key: PlanKey) -> Plan | None:
    return _plans.get(key)


def remember(key: PlanKey, issued: Issued, access: str, target: str) -> None:
    """Keep what this vend decided for the next request of the same principal at the same version."""
    if issued.space is None or issued.opened is None:
        return
    credential = issued.credential
    issuance = event(
        "credential.issue", issued.opened, **issuance_options(issued.space, access, target, credential, True)
    )
    throttled = event("credential.refuse", issued.space, **refusal_options(access, target, "throttled"))
    plan = Plan(
        provider=issued.provider,
        credential=credential.to_json(),
        expires_at=credential.expires_at,
        issuance=EventTemplate.of(issuance),
        throttled=EventTemplate.of(throttled),
    )
    _plans.put(key, plan)


def reissue(plan: Plan, user: Any) -> Credential | None:
    """The planned credential, its rate limit, audit entry and snapshot version in one Redis call.

    None once the credential is within the cache buffer of its expiry (vend as usual then); a
    throttled request is refused and audited as on the full path.
    """
    buffer = timedelta(minutes=settings.SPACEPORT_CREDENTIAL_CACHE_BUFFER_MINUTES)
    if plan.expires_at - timezone.now() <= buffer:
        return None
    counter, retry_after = rate_window(user.pk)
    limit = settings.SPACEPORT_CREDENTIAL_RATE_LIMIT_PER_MINUTE
    if journal_within_limit(counter, RATE_WINDOW_SECONDS, limit, allowed=plan.issuance) > limit:
        journal_again(plan.throttled)
        counted("refused", plan.provider)
        raise RateLimited(retry_after=retry_after)
    counted("cached", plan.provider)
    return Credential.from_json(plan.credential)
