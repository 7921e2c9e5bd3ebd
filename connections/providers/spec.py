"""What a connection method asks for, field by field, and what it risks.

One :class:`MethodSpec` per method drives input checking, the API's write-only secret fields,
the onboarding wizard's forms and its explanations, so the three never disagree. Each provider
package declares its own specs; this module only says what a spec is.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from connections import inputs as check


@dataclass(frozen=True)
class FieldSpec:
    name: str
    label: str
    check: Callable[[Any], Any]
    help: str = ""
    secret: bool = False
    required: bool = True
    kind: str = "text"
    default: Any = None
    choices: tuple[tuple[str, str], ...] = ()
    # Decides where a stored secret is sent: changing it requires entering the secret again.
    destination: bool = False
    # Choices read when asked (an operator's allow-list in settings), instead of fixed ``choices``.
    choices_from: Callable[[], tuple[tuple[str, str], ...]] | None = None
    # What an empty stored value stands for, so a row saved before the field had choices binds the same.
    empty_means: str = ""

    def options(self) -> tuple[tuple[str, str], ...]:
        """The choices offered right now."""
        return self.choices_from() if self.choices_from is not None else self.choices

    def initial(self) -> Any:
        """The value used when the field is left empty; a choice field defaults to its first option."""
        if self.default is None and self.choices_from is not None:
            options = self.options()
            return options[0][0] if options else ""
        return self.default


def no_errors(config: dict[str, Any], secret: dict[str, Any]) -> dict[str, str]:
    return {}


@dataclass(frozen=True)
class MethodSpec:
    method: str
    provider: str
    label: str
    summary: str
    risk: str
    fields: tuple[FieldSpec, ...]
    uses_external_id: bool = False
    # Acts with a token from Spaceport's issuer whose subject names this organization and connection.
    uses_spaceport_subject: bool = False
    recommended: bool = False
    extra: Mapping[str, Any] = field(default_factory=dict)
    # Checks across fields once each field passed its own check; may add derived settings to ``config``.
    settle: Callable[[dict[str, Any], dict[str, Any]], dict[str, str]] = no_errors

    @property
    def needs_connection_id(self) -> bool:
        """The ExternalId and the issuer's subject are both built on the connection's own random id."""
        return self.uses_external_id or self.uses_spaceport_subject

    @property
    def config_fields(self) -> tuple[FieldSpec, ...]:
        return tuple(f for f in self.fields if not f.secret)

    @property
    def secret_fields(self) -> tuple[FieldSpec, ...]:
        return tuple(f for f in self.fields if f.secret)

    @property
    def destination_fields(self) -> tuple[FieldSpec, ...]:
        return tuple(f for f in self.fields if f.destination)


class ConnectionInputError(Exception):
    """Input that does not make a working connection, field by field."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = dict(errors)


def optional(checker: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """A check that lets an empty value through as empty."""

    def run(value: Any) -> Any:
        return "" if value in (None, "") else checker(value)

    return run


PREFIX = FieldSpec(
    "prefix",
    "Path inside the bucket",
    check.prefix,
    "Optional. Spaces live under <path><space>/; leave empty to use the whole bucket.",
    required=False,
    default="",
)
