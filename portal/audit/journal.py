"""The audit journal: high-volume audit events written behind, in bulk.

Every credential request is audited, and a cached one costs less than its own audit row: the
row's round trips, foreign-key checks and WAL flush were most of the time of a cached vend.
Credential events are therefore appended to a Redis stream during the request (one round trip,
no database) and copied into :class:`AuditEvent` rows in bulk by :func:`drain`, which beat runs
every few seconds and the audit views run before they list.

A drain is safe to repeat and to run twice at once: each row keeps its stream entry id in the
unique ``journal_id``, rows are inserted ignoring conflicts, and entries leave the stream only
once their rows are committed. A drain that dies half-way is simply repeated.

Without Redis (the embedded setup) there is no stream, and events are written at once. With
Redis, the journal is as durable as Redis is: run it with persistence (``appendonly yes``, as
``docker-compose.yml`` does) so a restart keeps what has not been drained yet.
"""

from __future__ import annotations

import functools
import json
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Unpack

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import models, transaction
from django.utils import timezone

from portal.audit.context import client_ip, current_request_id
from portal.audit.models import AuditEvent
from portal.audit.trail import EventOptions, event, organization_model
from portal.core import snapshots
from portal.core.cache import count_hit, raw_redis
from portal.core.requests import current_request

logger = logging.getLogger(__name__)

STREAM = "audit-journal"
DRAIN_BATCH = 2000
FIELDS = (
    "actor_id",
    "actor_label",
    "action",
    "target_type",
    "target_id",
    "target_label",
    "organization_id",
    "organization_name",
    "outcome",
    "ip_address",
    "request_id",
    "details",
)


def journal(action: str, target: models.Model | None = None, **options: Unpack[EventOptions]) -> None:
    """Audit an event through the journal: appended now, a row in the trail at the next drain.

    A request that decided on an assumed snapshot version confirms it first (:mod:`snapshots`).
    """
    snapshots.confirm()
    written = event(action, target, **options)
    redis = raw_redis()
    if redis is None:
        written.save(force_insert=True)
        return
    redis.client.xadd(redis.key(STREAM), {"event": _entry(written)})


# The fields an event takes from the request it was written in, not from what happened.
_PER_REQUEST = ("time", "ip_address", "request_id")


@dataclass(frozen=True)
class EventTemplate:
    """An audit event to write again and again: everything but its time, the client's address and the
    request id, which each request fills in.

    A repeated credential request journals the same issuance every time; building the model instance,
    masking its details and serializing them once saves most of what an audit entry costs.
    """

    fields: dict[str, Any]
    prefix: str

    @classmethod
    def of(cls, written: AuditEvent) -> EventTemplate:
        fields = {name: getattr(written, name) for name in FIELDS if name not in _PER_REQUEST}
        return cls(fields, json.dumps(fields, separators=(",", ":"))[:-1])

    def entry(self) -> str:
        """The journal entry for the current request, as :func:`_entry` writes the event."""
        time, ip_address, request_id = self._per_request()
        own = json.dumps(
            {"ip_address": ip_address, "request_id": request_id, "time": time.isoformat()}, separators=(",", ":")
        )
        return f"{self.prefix},{own[1:]}"

    def event(self) -> AuditEvent:
        """The event as a model instance, for a trail written at once (no Redis)."""
        time, ip_address, request_id = self._per_request()
        return AuditEvent(time=time, ip_address=ip_address, request_id=request_id, **self.fields)

    @staticmethod
    def _per_request() -> tuple[datetime, str | None, str]:
        request = current_request.get()
        if request is None:
            return timezone.now(), None, ""
        return timezone.now(), client_ip(request), current_request_id.get()


def journal_again(template: EventTemplate) -> None:
    """Audit an event from its template, as :func:`journal` does, for a request that confirmed its
    snapshot version already."""
    snapshots.confirm()
    redis = raw_redis()
    if redis is None:
        template.event().save(force_insert=True)
        return
    redis.client.xadd(redis.key(STREAM), {"event": template.entry()})


# Unless the snapshot version has moved from the one given (then -1, nothing done): count a hit,
# journal the event (if one is given) only while the count stays within the limit, and answer the count.
_COUNT_AND_JOURNAL = """
if ARGV[4] ~= '' and redis.call('GET', KEYS[3]) ~= ARGV[4] then return -1 end
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
if ARGV[3] ~= '' and count <= tonumber(ARGV[2]) then redis.call('XADD', KEYS[2], '*', 'event', ARGV[3]) end
return count
"""


def journal_within_limit(
    counter: str, window_seconds: int, limit: int, allowed: AuditEvent | EventTemplate | None
) -> int:
    """Count a hit on ``counter`` (kept ``window_seconds``) and journal ``allowed`` (if any) if the
    count stays within ``limit``; answers the count, so the caller can refuse (and audit that) past it.

    On Redis this is one round trip (a script), so a credential served from the cache pays a
    single call for its rate limit, its audit event, and the check that the access snapshot version
    the request assumed is still current (:class:`snapshots.StaleSnapshot` if not, nothing counted
    or journaled).
    """
    redis = raw_redis()
    if redis is None:
        snapshots.confirm()
        count = count_hit(counter, window_seconds)
        if allowed is not None and count <= limit:
            (allowed.event() if isinstance(allowed, EventTemplate) else allowed).save(force_insert=True)
        return count
    assumed = snapshots.unconfirmed()
    version_key, version = (assumed.key, assumed.stored) if assumed is not None else (redis.key(STREAM), b"")
    count = int(
        _count_and_journal(redis.client)(
            keys=[redis.key(counter), redis.key(STREAM), version_key],
            args=[window_seconds, limit, _serialized(allowed), version],
        )
    )
    if count < 0:
        snapshots.stale()
    snapshots.confirmed()
    return count


@functools.lru_cache(maxsize=8)
def _count_and_journal(client: Any) -> Any:
    """The script, registered once per client (registering hashes it)."""
    return client.register_script(_COUNT_AND_JOURNAL)


# Unless the snapshot version has moved (then -1 alone): count a hit on KEYS[1], and answer the
# count with the cache's value under KEYS[3] when it holds one.
_COUNTED_AND_HELD = """
if ARGV[2] ~= '' and redis.call('GET', KEYS[2]) ~= ARGV[2] then return {-1} end
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
local held = redis.call('GET', KEYS[3])
if held then return {count, held} end
return {count}
"""


@dataclass(frozen=True)
class CountedAndHeld:
    """The count after one more hit, and what the cache held under the key looked up (or None)."""

    count: int
    held: Any


def counted_and_held(counter: str, held_key: str, window_seconds: int) -> CountedAndHeld:
    """Count one more hit on ``counter`` (kept ``window_seconds``) and look up ``held_key`` in the cache.

    A credential request that finds nothing in its process counts against the rate limit and looks
    in the shared cache at once: on Redis in one round trip, which also confirms the access
    snapshot version the request assumed (:class:`snapshots.StaleSnapshot` if it moved, nothing
    counted). Whatever the cache answers (a usable credential, one too near its end, nothing), the
    request then costs one more call, its audit entry: two in all, where a read, a count and the
    entry were three.
    """
    redis = raw_redis()
    if redis is None:
        snapshots.confirm()
        return CountedAndHeld(count_hit(counter, window_seconds), cache.get(held_key))
    assumed = snapshots.unconfirmed()
    version_key, version = (assumed.key, assumed.stored) if assumed is not None else (redis.key(STREAM), b"")
    answer = _counted_and_held(redis.client)(
        keys=[redis.key(counter), version_key, redis.key(held_key)], args=[window_seconds, version]
    )
    count = int(answer[0])
    if count < 0:
        snapshots.stale()
    snapshots.confirmed()
    return CountedAndHeld(count, redis.loaded(answer[1]) if len(answer) > 1 else None)


@functools.lru_cache(maxsize=8)
def _counted_and_held(client: Any) -> Any:
    return client.register_script(_COUNTED_AND_HELD)


def _serialized(allowed: AuditEvent | EventTemplate | None) -> str:
    if allowed is None:
        return ""
    return allowed.entry() if isinstance(allowed, EventTemplate) else _entry(allowed)


def _entry(written: AuditEvent) -> str:
    fields = {name: getattr(written, name) for name in FIELDS}
    fields["time"] = written.time.isoformat()
    return json.dumps(fields, separators=(",", ":"))


def drain(batch: int = DRAIN_BATCH) -> int:
    """Copy journaled events into the audit trail; answers how many entries were copied.

    Only the entries already there when it begins: while vends journal faster than one drain
    copies, a drain chasing the newest entry would never end, and an audit listing waits for its
    drain. Later entries wait for the next one, a few seconds away.
    """
    redis = raw_redis()
    if redis is None:
        return 0
    client, key = redis.client, redis.key(STREAM)
    newest = client.xrevrange(key, "+", "-", count=1)
    if not newest:
        return 0
    last = newest[0][0]
    copied = 0
    while True:
        entries = client.xrange(key, "-", last, count=batch)
        if not entries:
            return copied
        ids = [entry_id for entry_id, _ in entries]
        _insert([_row(entry_id, fields) for entry_id, fields in entries])
        client.xdel(key, *ids)
        copied += len(entries)
        if len(entries) < batch or ids[-1] == last:
            return copied


def _row(entry_id: bytes | str, fields: dict[Any, Any]) -> AuditEvent:
    raw: bytes | str = fields.get(b"event") or fields["event"]
    data = json.loads(raw)
    data["time"] = datetime.fromisoformat(data["time"])
    identifier = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
    return AuditEvent(journal_id=identifier, **data)


def _insert(rows: list[AuditEvent]) -> None:
    """Insert rows once; an actor or organization deleted since keeps only its recorded name."""
    users = set(
        get_user_model().objects.filter(pk__in={r.actor_id for r in rows if r.actor_id}).values_list("pk", flat=True)
    )
    known = organization_model()._default_manager.filter(pk__in={r.organization_id for r in rows if r.organization_id})
    organizations = set(known.values_list("pk", flat=True))
    for row in rows:
        if row.actor_id not in users:
            row.actor_id = None
        if row.organization_id not in organizations:
            row.organization_id = None
    with transaction.atomic():
        AuditEvent.objects.bulk_create(rows, ignore_conflicts=True)
