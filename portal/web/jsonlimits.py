"""How deeply a JSON document may nest before Spaceport refuses to read it.

Python's parser recurses once per level, so a body of a hundred thousand brackets ends in a
RecursionError (an HTTP 500) instead of a refusal; every later walk over the value would recurse
too. Nothing Spaceport accepts nests anywhere near the limit, so it is checked on the text before
parsing and on values that arrive already parsed.
"""

from __future__ import annotations

import re
from typing import Any

MAX_JSON_DEPTH = 32

_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[{]|[\]}]')


class JsonTooDeep(ValueError):
    """A document nests deeper than :data:`MAX_JSON_DEPTH`."""

    def __init__(self) -> None:
        super().__init__(f"The JSON nests deeper than {MAX_JSON_DEPTH} levels.")


def check_text_depth(document: str | bytes, limit: int = MAX_JSON_DEPTH) -> None:
    """Refuse JSON text nesting deeper than ``limit``, without parsing it (strings are skipped)."""
    text = document.decode("utf-8", errors="replace") if isinstance(document, bytes) else document
    depth = 0
    for match in _TOKENS.finditer(text):
        mark = match.group()
        if mark in ("[", "{"):
            depth += 1
            if depth > limit:
                raise JsonTooDeep()
        elif mark in ("]", "}"):
            depth -= 1


def check_depth(value: Any, limit: int = MAX_JSON_DEPTH) -> None:
    """Refuse a parsed value nesting deeper than ``limit``; walks without recursion."""
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list | tuple):
            children = item
        else:
            continue
        if depth > limit:
            raise JsonTooDeep()
        pending.extend((child, depth + 1) for child in children)
