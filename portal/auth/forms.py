"""The form of a personal API token on its page."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django import forms
from django.utils import timezone

from portal.web.formkit import DomainForm

TOKEN_LIFETIMES = [("30", "30 days"), ("90", "90 days"), ("365", "1 year"), ("", "Never")]


class ApiTokenForm(DomainForm):
    """A personal API token: a name to recognise it by, and how long it lives (shorter is safer)."""

    name = forms.CharField(max_length=100, help_text="Say where it is used, e.g. “nightly upload job”.")
    lifetime = forms.ChoiceField(
        choices=TOKEN_LIFETIMES, initial="90", required=False, label="Expires after", help_text="Shorter is safer."
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["lifetime"].show_optional = False  # type: ignore[attr-defined]

    def expires(self) -> datetime | None:
        days = self.cleaned_data.get("lifetime")
        return timezone.now() + timedelta(days=int(days)) if days else None
