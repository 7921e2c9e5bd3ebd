"""Evaluating a compiled policy set: may this principal do this action on this resource?

AWS's order, which Spaceport follows: an explicit Deny in any statement wins; otherwise an Allow
in any statement allows; otherwise the request is denied (the implicit deny). A decision carries
the statements that decided it, every matching Deny or, failing that, every matching Allow, so a
simulator can show why.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from accessgrants.policies.buckets import ARN_PREFIX
from accessgrants.policies.keys import RequestFacts, normalize_context

RequestContext = Mapping[str, object]
ARN_LENGTH = len(ARN_PREFIX)
EMPTY: RequestContext = {}


class Outcome(StrEnum):
    ALLOWED = "allowed"
    EXPLICIT_DENY = "explicit deny"
    IMPLICIT_DENY = "implicit deny"


@dataclass(frozen=True)
class StatementRef:
    """Which statement of which policy: ``index`` counts from 1 as the error messages do."""

    policy: str
    index: int
    sid: str
    effect: str

    def __str__(self) -> str:
        sid = f" ({self.sid})" if self.sid else ""
        return f"{self.policy} statement {self.index}{sid}"


@dataclass(frozen=True)
class Decision:
    allowed: bool
    outcome: Outcome
    statements: tuple[StatementRef, ...]

    @property
    def reason(self) -> str:
        """One sentence for people: the statements that decided, or that none allowed it."""
        if not self.statements:
            return "no statement allowed it"
        verb = "allowed" if self.allowed else "denied"
        return f"{verb} by " + ", ".join(map(str, self.statements))


NOT_ALLOWED = Decision(False, Outcome.IMPLICIT_DENY, ())


@dataclass(frozen=True)
class CompiledStatement:
    """A statement reduced to what evaluation needs: does it cover this resource, and do its conditions hold."""

    ref: StatementRef
    covers: Callable[[str, RequestContext], bool]
    conditions: tuple[Callable[[RequestContext], bool], ...] = ()


Candidates = tuple[tuple[CompiledStatement, ...], tuple[CompiledStatement, ...]]
NO_CANDIDATES: Candidates = ((), ())


@dataclass(frozen=True)
class ActionIndex:
    """The statements covering one action, split by effect: per bucket named literally in a statement's
    resources, and ``rest`` for any other bucket (statements whose buckets are wildcards)."""

    by_bucket: Mapping[str, Candidates]
    rest: Candidates


@dataclass(frozen=True)
class PolicySet:
    """Statements indexed by action and bucket, so a question looks only at statements that could answer
    it. ``context_keys`` are the request facts any condition or variable reads (sorted); ``reads_clock``
    says whether any reads the time."""

    index: Mapping[str, ActionIndex]
    context_keys: tuple[str, ...]
    reads_clock: bool = False

    def evaluate(self, action: str, resource: str, context: RequestContext | None = None) -> Decision:
        """The decision for ``action`` (e.g. ``s3:GetObject``) on ``resource`` (``arn:aws:s3:::bucket/key``
        or ``bucket/key``) in the request ``context`` (see :mod:`accessgrants.policies.keys`)."""
        entry = self.index.get(action) or self.index.get(action.lower())
        if entry is None:
            return NOT_ALLOWED
        path = resource[ARN_LENGTH:] if resource.startswith(ARN_PREFIX) else resource
        denies, allows = entry.by_bucket.get(path.partition("/")[0], entry.rest)
        facts: RequestContext = (
            (context if isinstance(context, RequestFacts) else normalize_context(context))
            if context and self.context_keys
            else EMPTY
        )
        denied = tuple(
            s.ref for s in denies if s.covers(path, facts) and (not s.conditions or all(c(facts) for c in s.conditions))
        )
        if denied:
            return Decision(False, Outcome.EXPLICIT_DENY, denied)
        allowed = tuple(
            s.ref for s in allows if s.covers(path, facts) and (not s.conditions or all(c(facts) for c in s.conditions))
        )
        if allowed:
            return Decision(True, Outcome.ALLOWED, allowed)
        return NOT_ALLOWED
