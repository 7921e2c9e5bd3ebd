"""A small IAM policy evaluator, for the session policies no emulator enforces.

moto ignores session policies altogether, so the tests decide what a vended credential may do
by evaluating the exact policy Spaceport sends. This covers what those policies use, following
AWS's documented semantics: Allow and Deny statements, actions with wildcards (case-insensitive),
resources with ``*`` and ``?`` (which match across ``/``), the literals ``${*}``, ``${?}`` and
``${$}``, ``StringLike`` and ``StringEquals`` conditions (a missing key fails them), and the
implicit deny. Anything else in a policy raises, so a test cannot pass on a feature this
evaluator silently ignores.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

LITERALS = {"${*}": "*", "${?}": "?", "${$}": "$"}
TOKEN = re.compile(r"\$\{[^}]*\}|\*|\?|[^$*?]+|\$")
KNOWN_STATEMENT_KEYS = {"Sid", "Effect", "Action", "Resource", "Condition"}


class Unsupported(ValueError):
    """The policy uses something this evaluator does not implement."""


def _pattern(text: str, *, wildcards: bool) -> re.Pattern[str]:
    parts: list[str] = []
    for token in TOKEN.findall(text):
        if token in LITERALS:
            parts.append(re.escape(LITERALS[token]))
        elif token.startswith("${"):
            raise Unsupported(f"policy variable {token}")
        elif wildcards and token == "*":
            parts.append(".*")
        elif wildcards and token == "?":
            parts.append(".")
        else:
            parts.append(re.escape(token))
    return re.compile("".join(parts), re.DOTALL)


def matches(pattern: str, value: str, *, wildcards: bool = True, ignore_case: bool = False) -> bool:
    """Whether ``value`` matches the IAM ``pattern`` as a whole."""
    compiled = _pattern(pattern.lower() if ignore_case else pattern, wildcards=wildcards)
    return compiled.fullmatch(value.lower() if ignore_case else value) is not None


def _listed(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _condition_holds(condition: Mapping[str, Any], context: Mapping[str, str]) -> bool:
    for operator, tests in condition.items():
        if operator not in ("StringLike", "StringEquals"):
            raise Unsupported(f"condition operator {operator}")
        for key, expected in tests.items():
            actual = context.get(key)
            if actual is None:
                return False
            wildcards = operator == "StringLike"
            if not any(matches(candidate, actual, wildcards=wildcards) for candidate in _listed(expected)):
                return False
    return True


def _applies(statement: Mapping[str, Any], action: str, resource: str, context: Mapping[str, str]) -> bool:
    unknown = set(statement) - KNOWN_STATEMENT_KEYS
    if unknown:
        raise Unsupported(f"statement elements {sorted(unknown)}")
    if not any(matches(pattern, action, ignore_case=True) for pattern in _listed(statement["Action"])):
        return False
    if not any(matches(pattern, resource) for pattern in _listed(statement["Resource"])):
        return False
    return _condition_holds(statement.get("Condition", {}), context)


def allowed(policy: Mapping[str, Any], action: str, resource: str, context: Mapping[str, str] | None = None) -> bool:
    """Whether ``policy`` allows ``action`` on ``resource``: an explicit deny wins, silence denies."""
    if policy.get("Version") != "2012-10-17":
        raise Unsupported("policy variables (and so the ${*} literals) need Version 2012-10-17")
    verdict = False
    for statement in _listed_statements(policy["Statement"]):
        if not _applies(statement, action, resource, context or {}):
            continue
        if statement["Effect"] == "Deny":
            return False
        if statement["Effect"] != "Allow":
            raise Unsupported(f"effect {statement['Effect']}")
        verdict = True
    return verdict


def _listed_statements(statements: Any) -> list[Mapping[str, Any]]:
    return [statements] if isinstance(statements, Mapping) else list(statements)


def object_arn(bucket: str, key: str) -> str:
    return f"arn:aws:s3:::{bucket}/{key}"


def bucket_arn(bucket: str) -> str:
    return f"arn:aws:s3:::{bucket}"


def may_list(policy: Mapping[str, Any], bucket: str, prefix: str | None) -> bool:
    """ListObjects(V2) on ``bucket``; ``prefix=None`` is a listing without the prefix parameter."""
    context = {} if prefix is None else {"s3:prefix": prefix}
    return allowed(policy, "s3:ListBucket", bucket_arn(bucket), context)
