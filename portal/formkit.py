"""Shared behaviour of the portal's HTML forms."""

from __future__ import annotations

from django import forms


def refuse_instead_of_truncating(form: forms.BaseForm) -> None:
    """Drop the ``maxlength`` attributes Django puts on text inputs.

    A browser silently cuts pasted text at ``maxlength``, so an over-long name became a shorter,
    different name without a word. Without the attribute the server's own length check answers,
    naming the field and the limit, and nothing is created.
    """
    for field in form.fields.values():
        field.widget.attrs.pop("maxlength", None)
