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

from accessgrants.policies.buckets import resource_path
from accessgrants.policies.keys import normalize_context

RequestContext = Mapping[str, object]


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
    reason: str

    @classmethod
    def of(cls, denies: list[StatementRef], allows: list[StatementRef]) -> Decision:
        if denies:
            return cls(False, Outcome.EXPLICIT_DENY, tuple(denies), "denied by " + ", ".join(map(str, denies)))
        if allows:
            return cls(True, Outcome.ALLOWED, tuple(allows), "allowed by " + ", ".join(map(str, allows)))
        return NOT_ALLOWED


NOT_ALLOWED = Decision(False, Outcome.IMPLICIT_DENY, (), "no statement allowed it")


@dataclass(frozen=True)
class CompiledStatement:
    """A statement reduced to what evaluation needs: does it cover this resource, and do its conditions hold."""

    ref: StatementRef
    covers: Callable[[str, RequestContext], bool]
    conditions: tuple[Callable[[RequestContext], bool], ...] = ()

    def applies(self, path: str, context: RequestContext) -> bool:
        if not self.covers(path, context):
            return False
        return all(condition(context) for condition in self.conditions)


@dataclass(frozen=True)
class PolicySet:
    """Statements indexed by the action they cover, so a question only looks at statements that could
    answer it. ``context_keys`` are the request facts any condition or variable reads (sorted)."""

    statements_by_action: Mapping[str, tuple[tuple[CompiledStatement, ...], tuple[CompiledStatement, ...]]]
    context_keys: tuple[str, ...]

    def evaluate(self, action: str, resource: str, context: RequestContext | None = None) -> Decision:
        """The decision for ``action`` (e.g. ``s3:GetObject``) on ``resource`` (``arn:aws:s3:::bucket/key``
        or ``bucket/key``) in the request ``context`` (see :mod:`accessgrants.policies.keys`)."""
        candidates = self.statements_by_action.get(action) or self.statements_by_action.get(action.lower())
        if candidates is None:
            return NOT_ALLOWED
        path = resource_path(resource)
        facts = normalize_context(dict(context)) if context and self.context_keys else {}
        denies, allows = candidates
        denied = [statement.ref for statement in denies if statement.applies(path, facts)]
        if denied:
            return Decision.of(denied, [])
        return Decision.of([], [statement.ref for statement in allows if statement.applies(path, facts)])
