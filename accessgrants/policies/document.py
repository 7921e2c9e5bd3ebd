"""Reading an IAM JSON identity policy into typed statements, refusing anything that would not work.

A policy is checked whole when it is saved, so evaluation never meets a surprise: every action must
be an S3 action in :data:`~accessgrants.policies.actions.ACTIONS` (a wildcard must match at least
one), every condition operator and key must be known and every value usable, and every resource
must name buckets of the policy's own organization (see :mod:`accessgrants.policies.buckets`). The
first problem is raised as a :class:`PolicyError` naming the statement and the field.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from accessgrants.policies.actions import ACTIONS, SERVICE, canonical_action
from accessgrants.policies.buckets import ARN_PREFIX, bucket_name, bucket_prefix, organization_of
from accessgrants.policies.conditions import check_values, parse_operator
from accessgrants.policies.keys import canonical_key
from accessgrants.policies.patterns import literal_prefix, regex_source, tokenize

CURRENT_VERSION = "2012-10-17"
VERSIONS = frozenset({CURRENT_VERSION, "2008-10-17"})
STATEMENT_FIELDS = frozenset({"Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Condition"})
POLICY_FIELDS = frozenset({"Version", "Id", "Statement"})
MAX_POLICY_CHARACTERS = 65_536


class Effect(StrEnum):
    ALLOW = "Allow"
    DENY = "Deny"


class PolicyError(ValueError):
    """A policy Spaceport refuses: where (statement number, counted from 1, and field) and why."""

    def __init__(self, field: str, message: str, statement: int | None = None) -> None:
        self.field = field
        self.message = message
        self.statement = statement
        where = f"Statement {statement}, {field}" if statement is not None else field
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True)
class Condition:
    operator: str
    if_exists: bool
    key: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class Statement:
    """One statement as written, with names made canonical; ``resources`` are ``bucket[/key]`` patterns."""

    index: int
    sid: str
    effect: Effect
    actions: tuple[str, ...]
    not_action: bool
    resources: tuple[str, ...]
    not_resource: bool
    conditions: tuple[Condition, ...] = ()


@dataclass(frozen=True)
class PolicyDocument:
    """A checked policy of one organization; ``variables`` says whether ``${...}`` is substituted."""

    name: str
    organization: str
    statements: tuple[Statement, ...]
    version: str = CURRENT_VERSION

    @property
    def variables(self) -> bool:
        return self.version == CURRENT_VERSION


def parse_policy(
    source: str | bytes | dict[str, Any],
    *,
    organization: str,
    spaces: Collection[str] | None = None,
    name: str = "policy",
) -> PolicyDocument:
    """Check a policy for ``organization`` and return it typed; ``spaces``, when given, are the
    organization's space names, and a resource naming any other bucket of it is refused too."""
    body = _load(source)
    unknown = sorted(set(body) - POLICY_FIELDS)
    if unknown:
        raise PolicyError(unknown[0], "unknown policy element; a policy has Version, Id and Statement")
    version = body.get("Version", "2008-10-17")
    if version not in VERSIONS:
        raise PolicyError("Version", f"{version!r} is not a policy version; use {CURRENT_VERSION!r}")
    raw_statements = body.get("Statement")
    if isinstance(raw_statements, dict):
        raw_statements = [raw_statements]
    if not isinstance(raw_statements, list) or not raw_statements:
        raise PolicyError("Statement", "a policy needs a list of one or more statements")
    known_buckets = None if spaces is None else frozenset(bucket_name(organization, space) for space in spaces)
    scope = _Scope(organization, known_buckets, variables=version == CURRENT_VERSION)
    statements = tuple(_statement(raw, index, scope) for index, raw in enumerate(raw_statements, start=1))
    seen: set[str] = set()
    for statement in statements:
        if statement.sid in seen:
            raise PolicyError("Sid", f"{statement.sid!r} is used by more than one statement", statement.index)
        if statement.sid:
            seen.add(statement.sid)
    return PolicyDocument(name=name, organization=organization, statements=statements, version=version)


def _load(source: str | bytes | dict[str, Any]) -> dict[str, Any]:
    if isinstance(source, dict):
        return source
    if len(source) > MAX_POLICY_CHARACTERS:
        raise PolicyError("Policy", f"longer than {MAX_POLICY_CHARACTERS} characters")
    try:
        body = json.loads(source, object_pairs_hook=_refuse_duplicates)
    except RecursionError:
        raise PolicyError("Policy", "nested too deeply to be a policy") from None
    except json.JSONDecodeError as error:
        raise PolicyError(
            "Policy", f"not valid JSON: {error.msg} at line {error.lineno} column {error.colno}"
        ) from None
    if not isinstance(body, dict):
        raise PolicyError("Policy", "a policy is a JSON object with Version and Statement")
    return body


def _refuse_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """JSON lets a key appear twice and keeps the last; a policy that does that hides a statement part."""
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise PolicyError("Policy", f"{key!r} appears twice in one object")
        result[key] = value
    return result


@dataclass(frozen=True)
class _Scope:
    organization: str
    buckets: frozenset[str] | None
    variables: bool


def _strings(raw: Any, field: str, index: int) -> tuple[str, ...]:
    values = [raw] if isinstance(raw, str) else raw
    if not isinstance(values, list) or not values or not all(isinstance(value, str) and value for value in values):
        raise PolicyError(field, "a non-empty string or a list of non-empty strings", index)
    return tuple(values)


def _statement(raw: Any, index: int, scope: _Scope) -> Statement:
    if not isinstance(raw, dict):
        raise PolicyError("Statement", "each statement is a JSON object", index)
    unknown = sorted(set(raw) - STATEMENT_FIELDS)
    if unknown:
        hint = " (identity policies apply to their holder and name no principal)" if "rincipal" in unknown[0] else ""
        raise PolicyError(unknown[0], f"unknown statement element{hint}", index)
    sid = raw.get("Sid", "")
    if not isinstance(sid, str) or not re.fullmatch(r"[A-Za-z0-9_.:-]*", sid):
        raise PolicyError("Sid", "letters, digits and . _ : - only", index)
    if raw.get("Effect") not in (Effect.ALLOW, Effect.DENY):
        raise PolicyError("Effect", f"{raw.get('Effect')!r} is neither 'Allow' nor 'Deny'", index)
    action_field = _one_of(raw, "Action", "NotAction", index)
    resource_field = _one_of(raw, "Resource", "NotResource", index)
    actions = tuple(_action(value, action_field, index) for value in _strings(raw[action_field], action_field, index))
    resources = tuple(
        _resource(value, resource_field, index, scope) for value in _strings(raw[resource_field], resource_field, index)
    )
    return Statement(
        index=index,
        sid=sid,
        effect=Effect(raw["Effect"]),
        actions=actions,
        not_action=action_field == "NotAction",
        resources=resources,
        not_resource=resource_field == "NotResource",
        conditions=_conditions(raw.get("Condition", {}), index, scope),
    )


def _one_of(raw: dict[str, Any], field: str, negated: str, index: int) -> str:
    if (field in raw) == (negated in raw):
        raise PolicyError(field, f"give exactly one of {field} and {negated}", index)
    return field if field in raw else negated


def _action(value: str, field: str, index: int) -> str:
    """The action or pattern in canonical spelling; a pattern must match some action of the table."""
    if value == "*":
        return value
    service, _, name = value.partition(":")
    if service.lower() != SERVICE or not name:
        raise PolicyError(field, f"unknown action {value} (Spaceport policies govern S3 actions, s3:...)", index)
    if "*" not in name and "?" not in name:
        canonical = canonical_action(value)
        if canonical is None:
            raise PolicyError(field, f"unknown action {value}", index)
        return canonical
    pattern = re.compile(regex_source(tokenize(value, wildcards=True, variables=False)), re.IGNORECASE)
    if not any(pattern.fullmatch(action) for action in ACTIONS):
        raise PolicyError(field, f"{value} matches no S3 action", index)
    return value


def _resource(value: str, field: str, index: int, scope: _Scope) -> str:
    """``bucket[/key]`` from an S3 ARN or the short form, after checking it stays in the organization."""
    if value.startswith("arn:") and not value.startswith(ARN_PREFIX):
        raise PolicyError(field, f"{value} is not an S3 bucket or object ({ARN_PREFIX}<bucket>[/<key>])", index)
    path = value[len(ARN_PREFIX) :] if value.startswith(ARN_PREFIX) else value
    try:
        tokens = tokenize(path, wildcards=True, variables=scope.variables)
    except ValueError as error:
        raise PolicyError(field, str(error), index) from None
    prefix, whole = literal_prefix(tokens)
    own = bucket_prefix(scope.organization)
    bucket = prefix.split("/", 1)[0]
    bucket_complete = "/" in prefix or whole
    if not prefix.startswith(own):
        if "-" in bucket:
            raise PolicyError(
                field,
                f"{value} names a bucket of organization {organization_of(bucket)!r}, outside {scope.organization!r}",
                index,
            )
        if bucket_complete:
            raise PolicyError(
                field, f"{value} is no bucket of organization {scope.organization!r} (those are {own}<space>)", index
            )
        reach = "every organization's buckets" if not prefix else "other organizations' buckets"
        raise PolicyError(field, f"{value} is a wildcard that would cover {reach}; start it with {own}", index)
    if bucket_complete and scope.buckets is not None and bucket not in scope.buckets:
        raise PolicyError(field, f"{value}: organization {scope.organization!r} has no space shown as {bucket}", index)
    return path


def _conditions(raw: Any, index: int, scope: _Scope) -> tuple[Condition, ...]:
    if not isinstance(raw, dict):
        raise PolicyError("Condition", "a JSON object of operators, each with keys and values", index)
    conditions: list[Condition] = []
    for operator_name, tests in raw.items():
        try:
            operator, if_exists = parse_operator(operator_name)
        except ValueError as error:
            raise PolicyError("Condition", str(error), index) from None
        if not isinstance(tests, dict) or not tests:
            raise PolicyError("Condition", f"{operator_name} needs an object of condition keys and values", index)
        for key_name, raw_values in tests.items():
            key = canonical_key(key_name)
            if key is None:
                raise PolicyError("Condition", f"{operator_name}: unknown condition key {key_name}", index)
            values = _condition_values(raw_values, operator_name, key_name, index)
            try:
                check_values(operator, values)
                if scope.variables and operator.startswith("String"):
                    for value in values:
                        tokenize(value, wildcards=True, variables=True)
            except ValueError as error:
                raise PolicyError("Condition", f"{key_name}: {error}", index) from None
            conditions.append(Condition(operator, if_exists, key, values))
    return tuple(conditions)


def _condition_values(raw: Any, operator: str, key: str, index: int) -> tuple[str, ...]:
    values = raw if isinstance(raw, list) else [raw]
    result = []
    for value in values:
        if isinstance(value, bool):
            result.append("true" if value else "false")
        elif isinstance(value, str | int | float):
            result.append(str(value))
        else:
            raise PolicyError("Condition", f"{operator}: {key} takes strings, numbers or booleans", index)
    if not result:
        raise PolicyError("Condition", f"{operator}: {key} needs at least one value", index)
    return tuple(result)
