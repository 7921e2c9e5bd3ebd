"""Secrets stay bound to the destination they were entered for.

A write-only secret must never be sent somewhere chosen after it was stored: whoever could
change a connection's endpoint, token URL, authority or account URL could otherwise have the
worker deliver a key they never knew to a host they run. So the fields that decide where a
secret goes (``FieldSpec.destination``) are fingerprinted, and the fingerprint is stored with
the secret, inside the encrypted material. Changing such a field requires entering the secret
again (:func:`refuse_moving`), and a client refuses a secret whose fingerprint does not match
the connection's current settings (:func:`require_bound`), which catches changes made past the
domain code, in the database itself.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from connections.providers.spec import ConnectionInputError, MethodSpec
from portal.core.fields import SecretMaterial


class HoldsSecret(Protocol):
    """What binding reads of a connection; the model saves through :func:`seal`, so this module
    names the shape it needs instead of importing the model."""

    pk: Any
    method: str
    config: Any
    secret: Any


class SecretUnbound(Exception):
    """A stored secret's destination differs from the connection's settings; it must not be used."""

    def __init__(self, fields: list[str], labels: list[str]) -> None:
        self.fields = fields
        self.labels = labels
        super().__init__(
            f"The stored {_joined(labels) or 'secret'} was entered for another destination than the "
            f"connection's current {_joined(fields)}; Spaceport does not send it anywhere else."
        )


def destination(method: str, config: Mapping[str, Any]) -> dict[str, str]:
    """The values of ``method``'s destination fields in ``config``; empty means the default place."""
    return {item.name: str(config.get(item.name) or item.empty_means) for item in spec_for(method).destination_fields}


def fingerprint(method: str, config: Mapping[str, Any]) -> str:
    document = json.dumps({"method": method, "to": destination(method, config)}, sort_keys=True)
    return hashlib.sha256(document.encode()).hexdigest()


def seal(method: str, config: Mapping[str, Any], secret: Mapping[str, Any] | None) -> SecretMaterial | None:
    """``secret`` bound to ``config``'s destination; None for no secret at all."""
    if not secret:
        return None
    material = SecretMaterial(secret)
    material.bound_to = fingerprint(method, config)
    return material


def bound_to(secret: Mapping[str, Any] | None) -> str:
    """The fingerprint a stored secret carries; empty for one saved before binding existed."""
    return str(getattr(secret, "bound_to", "") or "")


def refuse_moving(
    method: str,
    *,
    old_config: Mapping[str, Any],
    new_config: Mapping[str, Any],
    stored: Mapping[str, Any] | None,
    entered: set[str],
) -> set[str]:
    """The stored secret fields an edit must drop, or a refusal if a kept secret would go somewhere new.

    Compared with the destination the stored secret is bound to (or, for one stored before binding,
    with the settings it was used with). When a destination changes, stored secret fields that were
    not entered again are dropped if another secret field was entered (they belong to the old
    destination), and the edit is refused if none was.
    """
    spec = spec_for(method)
    kept = dict(stored or {})
    if not kept:
        return set()
    if (bound_to(stored) or fingerprint(method, old_config)) == fingerprint(method, new_config):
        return set()
    if entered:
        return set(kept) - entered
    changed = _changed_fields(method, old_config, new_config) or [f.name for f in spec.destination_fields]
    secret_fields = [f for f in spec.secret_fields if f.name in kept] or list(spec.secret_fields)
    first = secret_fields[0]
    labels = {f.name: f.label for f in spec.fields}
    errors = {
        first.name: f"Enter the {_lower(first.label)} again to change where it is sent: "
        f"the {_joined([_lower(labels[name]) for name in changed])} changed."
    }
    for name in changed:
        errors[name] = (
            f"Changing the {_lower(labels[name])} changes where the stored {_lower(first.label)} is sent; "
            f"enter the {_lower(first.label)} again with it."
        )
    raise ConnectionInputError(errors)


def require_bound(connection: HoldsSecret) -> None:
    """Refuse to use a secret that was bound to another destination than the connection's settings.

    A secret with no binding predates binding; the data migration that introduced it bound every
    stored secret, and saving a connection binds a new one, so only a value written past the model
    lacks it, and it is refused too. A connection that was never saved holds what the code building
    it gave it, not a stored secret, and is left alone.
    """
    secret = connection.secret
    if not secret or connection.pk is None:
        return
    if bound_to(secret) == fingerprint(connection.method, connection.config):
        return
    spec = spec_for(connection.method)
    fields = [_lower(f.label) for f in spec.destination_fields]
    labels = [_lower(f.label) for f in spec.secret_fields if f.name in secret]
    raise SecretUnbound(fields, labels)


def _changed_fields(method: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    before, after = destination(method, old), destination(method, new)
    return [name for name in after if before.get(name) != after[name]]


SpecLookup = Callable[[str], MethodSpec]
_lookup: list[SpecLookup] = []


def use_specs(lookup: SpecLookup) -> None:
    """Say where a method's spec is found; the connections app passes the provider registry when it starts.

    Binding sits below the providers (their clients refuse unbound secrets), so it is told how to
    find a spec rather than importing the registry that lists them.
    """
    _lookup[:] = [lookup]


def spec_for(method: str) -> MethodSpec:
    if not _lookup:
        raise RuntimeError("No provider registry: the connections app has not started.")
    return _lookup[0](method)


def _lower(label: str) -> str:
    """'API key' stays 'API key', 'Client secret' becomes 'client secret'."""
    first, _, rest = label.partition(" ")
    return f"{first if first.isupper() else first.lower()}{' ' if rest else ''}{rest}"


def _joined(words: list[str]) -> str:
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]
