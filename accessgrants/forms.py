"""The space page's request for a credential; the rules and limits are checked by ``issue()``, not here."""

from __future__ import annotations

from collections.abc import Iterable

from django import forms
from django.conf import settings
from django.http import QueryDict

from accessgrants.vending.issuing import longest_lifetime_minutes
from connections.storage import Access, Target
from portal.web.formkit import DomainForm

UPLOAD = "upload"
OBJECT_KEYS_MAX = 100


class CredentialRequestForm(DomainForm):
    """One click asks for one access level; ``upload`` is write access on the organization's loadingzone.

    Every level is a valid choice, whatever the person's role: a level they may not have must reach
    ``issue()`` so that the refusal is a 403 and is audited, not a quiet form error.
    """

    access = forms.ChoiceField(choices=[*Access.choices, (UPLOAD, "Upload to the loadingzone")])
    lifetime_minutes = forms.IntegerField(
        label="Lifetime in minutes",
        required=False,
        min_value=1,
        widget=forms.NumberInput(attrs={"placeholder": "Default", "inputmode": "numeric"}),
    )
    object_keys = forms.CharField(
        label="Object keys",
        required=False,
        widget=forms.Textarea(
            attrs={"rows": 3, "placeholder": "results/2024-06-01.csv\nresults/2024-06-02.csv", "spellcheck": "false"}
        ),
        help_text=(
            "One per line, relative to the space. This store signs one URL per object: writing and deleting "
            "need them, and for reading each adds a download URL."
        ),
    )

    def __init__(self, data: QueryDict | None = None, *, levels: Iterable[str] = tuple(Access.values)) -> None:
        """``levels`` are the ones the person is offered; the lifetime's help names only their limits."""
        super().__init__(data)
        defaults = settings.SPACEPORT_CREDENTIAL_LIFETIME_MINUTES
        limits = settings.SPACEPORT_CREDENTIAL_MAX_LIFETIME_MINUTES
        lifetime = self.fields["lifetime_minutes"]
        lifetime.widget.attrs["max"] = max(limits.values())
        lifetime.help_text = "Empty for the default: " + ", ".join(
            f"{defaults[level]} min to {level} (at most {limits[level]})" for level in levels
        )

    def clean_lifetime_minutes(self) -> int | None:
        """Bounded here, before any arithmetic (see :func:`longest_lifetime_minutes`)."""
        minutes: int | None = self.cleaned_data.get("lifetime_minutes")
        longest = longest_lifetime_minutes()
        if minutes is not None and minutes > longest:
            level = self.level if "access" in self.cleaned_data else ""
            limit = settings.SPACEPORT_CREDENTIAL_MAX_LIFETIME_MINUTES.get(level, longest)
            raise forms.ValidationError(
                f"Choose a lifetime between 1 and {limit} minutes{f' for {level} access' if level else ''}."
            )
        return minutes

    def clean_object_keys(self) -> tuple[str, ...]:
        """Lines, trimmed, blank ones dropped; the vendor checks each key stays inside the space."""
        keys = tuple(line.strip() for line in self.cleaned_data["object_keys"].splitlines() if line.strip())
        if len(keys) > OBJECT_KEYS_MAX:
            raise forms.ValidationError(f"Name at most {OBJECT_KEYS_MAX} objects per credential.")
        return keys

    @property
    def level(self) -> str:
        """The access level ``issue()`` is asked for."""
        access: str = self.cleaned_data["access"]
        return Access.WRITE if access == UPLOAD else access

    @property
    def target(self) -> str:
        return Target.LOADINGZONE if self.cleaned_data["access"] == UPLOAD else Target.SPACE
