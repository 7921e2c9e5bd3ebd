"""Checking what a customer entered for a connection method, against that method's spec.

The specs themselves live in the provider packages (``connections/providers/<cloud>/methods.py``)
and are found through :mod:`connections.providers.registry`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import models

from connections.providers.registry import all_specs, method_choices, provider_choices, spec_for
from connections.providers.spec import ConnectionInputError

# The values stored for the registered providers and methods, named for scripts and tests
# (``Method.AWS_ACCESS_KEYS``); built from the registry, so they never list a cloud of their own.
Provider = models.TextChoices("Provider", [(key.upper(), (key, label)) for key, label in provider_choices()])  # type: ignore[call-overload]
Method = models.TextChoices("Method", [(key.upper(), (key, label)) for key, label in method_choices()])  # type: ignore[call-overload]


def clean_input(
    method: str,
    values: Mapping[str, Any],
    *,
    existing_secret: Mapping[str, Any] | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Check every field of ``method`` and split the result into (config, secret).

    Secret fields left empty keep their stored value, so editing a connection never requires
    typing its secret again. Unknown fields are refused, so a typo is not silently dropped.
    """
    spec = spec_for(method)
    errors: dict[str, str] = {}
    known = {f.name for f in spec.fields}
    for name in values:
        if name not in known:
            errors[name] = f"{spec.label} takes no field '{name}'."
    config: dict[str, Any] = {}
    secret: dict[str, Any] = dict(existing_secret or {})
    for item in spec.fields:
        raw = values.get(item.name)
        if raw in (None, ""):
            if item.secret and item.name in secret:
                continue
            if item.required:
                errors[item.name] = "This field is required."
                continue
            if not item.secret:
                default = item.initial()
                config[item.name] = default if default is not None else ""
            continue
        try:
            cleaned = item.check(raw)
        except ValueError as exc:
            errors[item.name] = str(exc)
            continue
        (secret if item.secret else config)[item.name] = cleaned
    for name, message in spec.settle(config, secret).items():
        errors.setdefault(name, message)
    if errors:
        raise ConnectionInputError(errors)
    return config, secret


__all__ = ["Method", "Provider", "all_specs", "clean_input", "spec_for"]
