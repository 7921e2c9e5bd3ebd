"""Condition operators, each compiled once into a small closure over the request context.

AWS's semantics, which Spaceport follows: several operators in one ``Condition``, and several keys
under one operator, must all hold; several values for one key are alternatives, except under a
negated operator (``StringNotEquals``, ``NotIpAddress``, ...), where the request's value must match
none of them. A key the request lacks fails a condition, but satisfies a negated one; ``...IfExists``
makes any operator hold when the key is absent; ``Null`` tests only presence.
"""

from __future__ import annotations

import ipaddress
import math
import operator as op
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from accessgrants.policies.keys import context_text
from accessgrants.policies.patterns import matcher

RequestContext = Mapping[str, object]
Test = Callable[[RequestContext], bool]
IF_EXISTS = "IfExists"

COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "Equals": op.eq,
    "NotEquals": op.ne,
    "LessThan": op.lt,
    "LessThanEquals": op.le,
    "GreaterThan": op.gt,
    "GreaterThanEquals": op.ge,
}


@dataclass(frozen=True)
class Operator:
    """One base operator: the kind of value it compares, and whether it is negated."""

    kind: str
    negated: bool
    comparison: str = "Equals"


OPERATORS: dict[str, Operator] = {
    "StringEquals": Operator("string", False),
    "StringNotEquals": Operator("string", True),
    "StringEqualsIgnoreCase": Operator("string-ignore-case", False),
    "StringNotEqualsIgnoreCase": Operator("string-ignore-case", True),
    "StringLike": Operator("string-like", False),
    "StringNotLike": Operator("string-like", True),
    "Bool": Operator("bool", False),
    "IpAddress": Operator("ip", False),
    "NotIpAddress": Operator("ip", True),
    "Null": Operator("null", False),
    **{f"Numeric{name}": Operator("numeric", name == "NotEquals", name) for name in COMPARISONS},
    **{f"Date{name}": Operator("date", name == "NotEquals", name) for name in COMPARISONS},
}
CANONICAL_OPERATORS = {name.lower(): name for name in OPERATORS}


def parse_operator(name: str) -> tuple[str, bool]:
    """The operator's name as AWS spells it and whether it ends in ``IfExists``; ValueError if unknown."""
    base, if_exists = name, False
    if name.lower().endswith(IF_EXISTS.lower()) and name.lower() != "null":
        base, if_exists = name[: -len(IF_EXISTS)], True
    canonical = CANONICAL_OPERATORS.get(base.lower())
    if canonical is None or (if_exists and canonical == "Null"):
        raise ValueError(f"unknown condition operator {name}")
    if canonical != base:
        raise ValueError(
            f"unknown condition operator {name} (did you mean {canonical}{IF_EXISTS if if_exists else ''}?)"
        )
    return canonical, if_exists


def as_number(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def as_moment(value: object) -> datetime | None:
    """A datetime from a datetime, epoch seconds, or ISO 8601 text; naive times are UTC."""
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            if isinstance(value, int | float) and not isinstance(value, bool):
                return datetime.fromtimestamp(value, UTC)
            text = str(value).strip()
            if text.isdigit():
                return datetime.fromtimestamp(int(text), UTC)
            moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
        except (ValueError, OverflowError, OSError):
            return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def as_bool(value: object) -> bool | None:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    return {"true": True, "false": False}.get(text)


def as_address(value: object) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(str(value).strip())
    except ValueError:
        return None


def _value_test(base: Operator, values: tuple[str, ...], variables: bool) -> Callable[[object, RequestContext], bool]:
    """A test of one present context value against the policy's values (any of them)."""
    if base.kind.startswith("string"):
        like = base.kind == "string-like"
        ignore_case = base.kind == "string-ignore-case"
        tests = [matcher(value, wildcards=like, variables=variables, ignore_case=ignore_case) for value in values]
        return lambda actual, context: any(test(context_text(actual), context) for test in tests)
    if base.kind == "ip":
        networks = [ipaddress.ip_network(value.strip(), strict=False) for value in values]

        def in_network(actual: object, _context: RequestContext) -> bool:
            address = as_address(actual)
            return address is not None and any(address in network for network in networks)

        return in_network
    if base.kind == "bool":
        wanted = {as_bool(value) for value in values}
        return lambda actual, _context: as_bool(actual) in wanted
    parse = as_number if base.kind == "numeric" else as_moment
    compare = COMPARISONS["Equals" if base.negated else base.comparison]
    limits = [parse(value) for value in values]

    def compares(actual: object, _context: RequestContext) -> bool:
        parsed = parse(actual)
        return parsed is not None and any(compare(parsed, limit) for limit in limits)

    return compares


def check_values(name: str, values: tuple[str, ...]) -> None:
    """ValueError naming the first value the operator cannot use."""
    base = OPERATORS[name]
    if base.kind in ("string", "string-ignore-case", "string-like"):
        return
    checks: dict[str, Callable[[str], object]] = {
        "numeric": as_number,
        "date": as_moment,
        "bool": as_bool,
        "null": as_bool,
        "ip": _network,
    }
    for value in values:
        if checks[base.kind](value) is None:
            raise ValueError(f"{name}: {value!r} is not {_KIND_NAMES[base.kind]}")


_KIND_NAMES = {
    "numeric": "a number",
    "date": "a date (ISO 8601 or seconds since 1970)",
    "bool": "true or false",
    "null": "true or false",
    "ip": "an IP address or CIDR block",
}


def _network(value: str) -> object:
    try:
        return ipaddress.ip_network(value.strip(), strict=False)
    except ValueError:
        return None


def compile_condition(name: str, if_exists: bool, key: str, values: tuple[str, ...], *, variables: bool) -> Test:
    """One operator on one key, as a closure over the request context."""
    base = OPERATORS[name]
    if base.kind == "null":
        absent = as_bool(values[0]) is True if len(values) == 1 else None
        if absent is None:
            wanted = {as_bool(value) for value in values}
            return lambda context: (key not in context) in wanted
        return (lambda context: key not in context) if absent else (lambda context: key in context)
    test = _value_test(base, values, variables)
    when_absent = if_exists or base.negated
    if base.negated:

        def negated(context: RequestContext) -> bool:
            actual = context.get(key)
            return when_absent if actual is None else not test(actual, context)

        return negated

    def positive(context: RequestContext) -> bool:
        actual = context.get(key)
        return when_absent if actual is None else test(actual, context)

    return positive
