"""Shared behaviour of the portal's HTML forms."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django import forms
from django.core.exceptions import ValidationError

from portal.core.errors import DomainError

T = TypeVar("T")


def refuse_instead_of_truncating(form: forms.BaseForm) -> None:
    """Drop the ``maxlength`` attributes Django puts on text inputs.

    A browser silently cuts pasted text at ``maxlength``, so an over-long name became a shorter,
    different name without a word. Without the attribute the server's own length check answers,
    naming the field and the limit, and nothing is created.
    """
    for field in form.fields.values():
        field.widget.attrs.pop("maxlength", None)


class DomainForm(forms.Form):
    """A form that can show the domain layer's verdict next to the field it names."""

    field_aliases: dict[str, str] = {}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        refuse_instead_of_truncating(self)

    def add_domain_error(self, error: DomainError | ValidationError) -> None:
        """Place a refusal from the domain on the matching field, or above the form when none matches."""
        if isinstance(error, DomainError):
            self._add_error_for(error.field, error.message)
            return
        if hasattr(error, "error_dict"):
            for field_name, messages in error.message_dict.items():
                for message in messages:
                    self._add_error_for(field_name, message)
        else:
            for message in error.messages:
                self.add_error(None, message)

    def apply(self, change: Callable[[], T]) -> T | None:
        """Make a valid form's change and return what it made; None when the form is invalid or the
        domain refuses the change, whose reason then stands on the form like any other error."""
        if not self.is_valid():
            return None
        try:
            return change()
        except (DomainError, ValidationError) as exc:
            self.add_domain_error(exc)
            return None

    def _add_error_for(self, field_name: str, message: str) -> None:
        target = self.field_aliases.get(field_name, field_name)
        self.add_error(target if target in self.fields else None, message)
