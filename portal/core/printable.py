"""Text people and programs type: refused when it holds control characters.

A NUL ends a C string in a database driver or an SDK, an escape sequence rewrites a terminal that
shows the audit trail, and a line break in a one-line value splits a log line or a header. No name,
key or secret legitimately holds one, so they are refused with a message saying which kind of text
is expected, never repeating the value (which may be a secret).
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError

# C0 controls, DEL, C1 controls and the Unicode line and paragraph separators.
CONTROL_CHARACTERS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# The same, allowing tab, line feed and carriage return: PEM files, JSON text, descriptions.
CONTROL_CHARACTERS_MULTILINE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def has_control_characters(value: str, *, multiline: bool = False) -> bool:
    return bool((CONTROL_CHARACTERS_MULTILINE if multiline else CONTROL_CHARACTERS).search(value))


def printable_line(value: str) -> None:
    """A model or form validator for one line of text (names, titles)."""
    if has_control_characters(value or ""):
        raise ValidationError(
            "Remove the control characters (such as NUL, escape or a line break); use one line of text.",
            code="control_characters",
        )


def printable_text(value: str) -> None:
    """A model or form validator for text that may span lines (descriptions)."""
    if has_control_characters(value or "", multiline=True):
        raise ValidationError(
            "Remove the control characters (such as NUL or escape); tabs and line breaks are fine.",
            code="control_characters",
        )
