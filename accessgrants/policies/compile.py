"""Compiling checked policies into a :class:`~accessgrants.policies.engine.PolicySet`, once per version.

Everything that can be decided without the request is decided here. Action patterns are resolved
against the finite S3 action table, and statements whose resources name their buckets literally are
filed under those buckets, so a question finds its few candidate statements with two dictionary
lookups (action, then bucket), in policy order. A statement's resources become a set of exact
paths, a tuple of prefixes (``acme-raw/in/*``) and at most one regex for the rest; resources with
variables are filled in per request. Conditions become closures (:mod:`accessgrants.policies.conditions`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping

from accessgrants.policies.actions import ACTIONS
from accessgrants.policies.buckets import bucket_prefix
from accessgrants.policies.conditions import compile_condition
from accessgrants.policies.document import Effect, PolicyDocument, Statement
from accessgrants.policies.engine import ActionIndex, Candidates, CompiledStatement, PolicySet, StatementRef
from accessgrants.policies.keys import CLOCK_KEYS
from accessgrants.policies.patterns import Variable, Wild, literal_prefix, matcher, regex_source, tokenize

RequestContext = Mapping[str, object]
Covers = Callable[[str, RequestContext], bool]


def compile_policies(documents: Iterable[PolicyDocument]) -> PolicySet:
    """One policy set from every policy that applies to a principal (their own, their groups', their roles')."""
    # action -> every statement covering it, in policy order, each with its literal buckets (None: any)
    covering: dict[str, list[tuple[CompiledStatement, bool, frozenset[str] | None]]] = {a: [] for a in ACTIONS}
    context_keys: set[str] = set()
    for document in documents:
        for statement in document.statements:
            compiled = _statement(document, statement)
            context_keys |= _keys_read(document, statement)
            buckets = None if statement.not_resource else _literal_buckets(statement.resources, document.variables)
            for action in _actions_covered(statement):
                covering[action].append((compiled, statement.effect == Effect.DENY, buckets))
    index = {action: _action_index(entries) for action, entries in covering.items()}
    index.update({action.lower(): entry for action, entry in list(index.items())})
    return PolicySet(index=index, context_keys=tuple(sorted(context_keys)), reads_clock=bool(CLOCK_KEYS & context_keys))


def _action_index(entries: list[tuple[CompiledStatement, bool, frozenset[str] | None]]) -> ActionIndex:
    def split(chosen: list[tuple[CompiledStatement, bool, frozenset[str] | None]]) -> Candidates:
        return tuple(c for c, deny, _ in chosen if deny), tuple(c for c, deny, _ in chosen if not deny)

    named = {bucket for _, _, buckets in entries if buckets for bucket in buckets}
    by_bucket = {
        bucket: split([entry for entry in entries if entry[2] is None or bucket in entry[2]]) for bucket in named
    }
    return ActionIndex(by_bucket=by_bucket, rest=split([entry for entry in entries if entry[2] is None]))


def _literal_buckets(patterns: tuple[str, ...], variables: bool) -> frozenset[str] | None:
    """The buckets a statement's resources name literally, or None if any bucket part has a wildcard."""
    buckets = set()
    for pattern in patterns:
        head, whole = literal_prefix(tokenize(pattern, wildcards=True, variables=variables))
        if not whole and "/" not in head:
            return None
        buckets.add(head.partition("/")[0])
    return frozenset(buckets)


def _actions_covered(statement: Statement) -> frozenset[str]:
    patterns = [re.compile(regex_source(tokenize(a, wildcards=True, variables=False)), re.I) for a in statement.actions]
    named = frozenset(action for action in ACTIONS if any(pattern.fullmatch(action) for pattern in patterns))
    return frozenset(ACTIONS) - named if statement.not_action else named


def _statement(document: PolicyDocument, statement: Statement) -> CompiledStatement:
    covers = _resources(statement.resources, variables=document.variables)
    if statement.not_resource:
        own = bucket_prefix(document.organization)
        excluded = covers

        def covers_rest_of_organization(path: str, context: RequestContext) -> bool:
            return path.startswith(own) and not excluded(path, context)

        covers = covers_rest_of_organization
    conditions = tuple(
        compile_condition(c.operator, c.if_exists, c.key, c.values, variables=document.variables)
        for c in statement.conditions
    )
    ref = StatementRef(document.name, statement.index, statement.sid, str(statement.effect))
    return CompiledStatement(ref=ref, covers=covers, conditions=conditions)


def _resources(patterns: tuple[str, ...], *, variables: bool) -> Covers:
    exact: set[str] = set()
    prefixes: list[str] = []
    general: list[str] = []
    templated: list[Covers] = []
    for pattern in patterns:
        tokens = tokenize(pattern, wildcards=True, variables=variables)
        head, whole = literal_prefix(tokens)
        if any(isinstance(token, Variable) for token in tokens):
            templated.append(matcher(pattern, wildcards=True, variables=True))
        elif whole:
            exact.add(head)
        elif tokens[-1] == Wild("*") and literal_prefix(tokens[:-1])[1]:
            prefixes.append(head)
        else:
            general.append(regex_source(tokens))
    exact_paths = frozenset(exact)
    prefix_tuple = tuple(prefixes)
    regex = re.compile("|".join(f"(?:{source})" for source in general), re.DOTALL) if general else None
    extra = tuple(templated)
    if regex is None and not extra:
        if not prefix_tuple:
            return lambda path, _context: path in exact_paths
        return lambda path, _context: path in exact_paths or path.startswith(prefix_tuple)

    def covers(path: str, context: RequestContext) -> bool:
        if path in exact_paths or (prefix_tuple and path.startswith(prefix_tuple)):
            return True
        if regex is not None and regex.fullmatch(path) is not None:
            return True
        return any(test(path, context) for test in extra)

    return covers


def _keys_read(document: PolicyDocument, statement: Statement) -> set[str]:
    keys = {condition.key for condition in statement.conditions}
    if document.variables:
        texts = [
            *statement.resources,
            *(v for c in statement.conditions if c.operator.startswith("String") for v in c.values),
        ]
        for text in texts:
            keys |= {t.key for t in tokenize(text, wildcards=True, variables=True) if isinstance(t, Variable)}
    return keys
