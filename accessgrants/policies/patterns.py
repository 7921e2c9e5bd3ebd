"""IAM string patterns: ``*`` and ``?`` wildcards and ``${...}`` policy variables, compiled once.

AWS's rules, which Spaceport follows: ``*`` matches any run of characters and ``?`` exactly one,
both across ``/``; ``${*}``, ``${?}`` and ``${$}`` are a literal ``*``, ``?`` and ``$``; a variable
such as ``${aws:username}`` or ``${aws:PrincipalTag/team, 'none'}`` is replaced by the request's
value (its default when the request has none, and no match at all when there is neither), and that
value is literal text, never a wildcard. Variables exist only in policies of version 2012-10-17.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache

from accessgrants.policies.keys import canonical_key, context_text

LITERALS = {"${*}": "*", "${?}": "?", "${$}": "$"}
TOKEN = re.compile(r"\$\{[^}]*\}|\*|\?|[^$*?]+|\$")
VARIABLE = re.compile(r"\$\{\s*([^,}\s]+)\s*(?:,\s*'([^']*)'\s*)?\}")

RequestContext = Mapping[str, object]


@dataclass(frozen=True)
class Variable:
    key: str
    default: str | None


@dataclass(frozen=True)
class Wild:
    """A ``*`` (any run of characters) or ``?`` (one character)."""

    char: str


Token = str | Wild | Variable


def tokenize(text: str, *, wildcards: bool, variables: bool) -> tuple[Token, ...]:
    """Split a pattern into literal text, wildcards and variables; ValueError names what is wrong."""
    tokens: list[Token] = []
    for piece in TOKEN.findall(text):
        if piece in ("*", "?"):
            tokens.append(Wild(piece) if wildcards else piece)
        elif piece.startswith("${") and variables:
            if piece in LITERALS:
                tokens.append(LITERALS[piece])
                continue
            found = VARIABLE.fullmatch(piece)
            key = canonical_key(found.group(1)) if found else None
            if found is None or key is None:
                raise ValueError(f"unknown policy variable {piece}")
            tokens.append(Variable(key, found.group(2)))
        else:
            tokens.append(piece)
    merged: list[Token] = []
    for token in tokens:
        if isinstance(token, str) and merged and isinstance(merged[-1], str):
            merged[-1] += token
        else:
            merged.append(token)
    return tuple(merged)


def literal_prefix(tokens: tuple[Token, ...]) -> tuple[str, bool]:
    """The literal text a pattern starts with, and whether that is the whole pattern."""
    prefix = ""
    for token in tokens:
        if not isinstance(token, str):
            return prefix, False
        prefix += token
    return prefix, True


def regex_source(tokens: tuple[Token, ...]) -> str:
    parts = []
    for token in tokens:
        if isinstance(token, Wild):
            parts.append(".*" if token.char == "*" else ".")
        elif isinstance(token, str):
            parts.append(re.escape(token))
        else:
            raise TypeError("variables are substituted before a regex is built")
    return "".join(parts)


@lru_cache(maxsize=4096)
def _regex(source: str, ignore_case: bool) -> re.Pattern[str]:
    return re.compile(source, re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def substitute(tokens: tuple[Token, ...], context: RequestContext) -> tuple[Token, ...] | None:
    """The pattern with the request's values in place of variables, or None if one has no value."""
    result: list[Token] = []
    for token in tokens:
        if isinstance(token, Variable):
            value = context.get(token.key)
            text = context_text(value) if value is not None else token.default
            if text is None:
                return None
            result.append(text)
        else:
            result.append(token)
    return tuple(result)


def matcher(
    text: str, *, wildcards: bool, variables: bool, ignore_case: bool = False
) -> Callable[[str, RequestContext], bool]:
    """A test ``(value, context) -> bool`` for one pattern: equality, a prefix, or a regex, picked once."""
    tokens = tokenize(text, wildcards=wildcards, variables=variables)
    if any(isinstance(token, Variable) for token in tokens):

        def templated(value: str, context: RequestContext) -> bool:
            filled = substitute(tokens, context)
            if filled is None:
                return False
            return _regex(regex_source(filled), ignore_case).fullmatch(value) is not None

        return templated
    prefix, whole = literal_prefix(tokens)
    if ignore_case:
        rx = _regex(regex_source(tokens), True)
        return lambda value, _context: rx.fullmatch(value) is not None
    if whole:
        return lambda value, _context: value == prefix
    if tokens[-1] == Wild("*") and literal_prefix(tokens[:-1])[1]:
        return lambda value, _context: value.startswith(prefix)
    rx = _regex(regex_source(tokens), False)
    return lambda value, _context: rx.fullmatch(value) is not None
