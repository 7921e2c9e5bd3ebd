"""A model field for secret material that is only ever stored encrypted.

Each connection method's secret part is a small JSON object (a client secret, a key file, an
HMAC pair), so the field holds a dict, encrypts its JSON under the first key in
``settings.ENCRYPTION_KEYS`` and stores the Fernet token in a text column. Loaded values are a
:class:`SecretMaterial`, a dict whose ``repr`` and ``str`` are masked, so a secret does not leak
through logs, tracebacks or the shell by being printed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models.functions import Cast
from django.db.models.query_utils import DeferredAttribute

from portal.core import crypto

# Where, inside the encrypted JSON, the fingerprint of the secret's destination is kept.
BINDING_KEY = "_bound_to"


class SecretMaterial(dict[str, Any]):
    """A decrypted secret: a plain dict in every way except how it prints.

    ``bound_to`` is the fingerprint of the destination the secret was entered for (the owning app
    computes it, as :mod:`connections.binding` does); it is encrypted with the secret but is not one
    of its entries.
    """

    bound_to: str = ""

    def __repr__(self) -> str:
        return f"<SecretMaterial: {len(self)} masked entries>"


def _as_secret(value: Any) -> Any:
    return SecretMaterial(value) if isinstance(value, dict) and not isinstance(value, SecretMaterial) else value


class _SecretDescriptor(DeferredAttribute):
    """Wrap whatever is assigned in :class:`SecretMaterial`, so fresh values print masked too."""

    def __set__(self, instance: models.Model, value: Any) -> None:
        instance.__dict__[self.field.attname] = _as_secret(value)


class EncryptedJSONField(models.Field):
    """A JSON object stored as ciphertext; only ``isnull`` lookups make sense on it.

    Fernet tokens are randomized, so equality or containment lookups could never match and are
    refused instead of silently returning nothing.
    """

    description = "A JSON object encrypted at rest"
    descriptor_class = _SecretDescriptor
    audit_masked = True
    empty_strings_allowed = False

    def get_internal_type(self) -> str:
        return "TextField"

    def get_lookup(self, lookup_name: str) -> Any:
        return super().get_lookup(lookup_name) if lookup_name == "isnull" else None

    def get_transform(self, lookup_name: str) -> Any:
        return None

    def _label(self) -> str:
        model = getattr(self, "model", None)
        return f"{model._meta.label}.{self.name}" if model is not None else str(self.name)

    def _decrypt(self, token: str) -> SecretMaterial:
        try:
            plaintext = crypto.decrypt(token)
        except crypto.DecryptionError as exc:
            raise crypto.DecryptionError(f"{self._label()}: {exc}") from None
        document = json.loads(plaintext)
        bound_to = document.pop(BINDING_KEY, "") if isinstance(document, dict) else ""
        material = SecretMaterial(document)
        material.bound_to = str(bound_to or "")
        return material

    def from_db_value(self, value: str | None, expression: Any, connection: BaseDatabaseWrapper) -> Any:
        return None if value is None else self._decrypt(value)

    def to_python(self, value: Any) -> Any:
        """Accept a dict, or a token as written by :meth:`value_to_string` (fixtures and dumps)."""
        if value is None or isinstance(value, SecretMaterial):
            return value
        if isinstance(value, dict):
            return SecretMaterial(value)
        if isinstance(value, str):
            return self._decrypt(value)
        raise ValidationError(f"{self._label()} must be a JSON object.", code="invalid")

    def get_prep_value(self, value: Any) -> Any:
        if value is None:
            return None
        if not isinstance(value, dict):
            raise TypeError(f"{self._label()} stores a JSON object, not {type(value).__name__}.")
        document = dict(value)
        bound_to = getattr(value, "bound_to", "")
        if bound_to:
            document[BINDING_KEY] = bound_to
        return crypto.encrypt(json.dumps(document, sort_keys=True, separators=(",", ":")))

    def value_to_string(self, obj: models.Model) -> str:
        """Serialize as ciphertext, so ``dumpdata`` output never holds a secret in the clear."""
        value = self.value_from_object(obj)
        return "" if value is None else str(self.get_prep_value(value))

    def formfield(self, **kwargs: Any) -> Any:
        """No form field: secret material is set by domain code, never edited as raw JSON."""
        return None


@dataclass(frozen=True)
class RotationCount:
    """How many stored values of one field were looked at and how many had to be rewritten."""

    label: str
    checked: int
    rewritten: int


def encrypted_fields() -> Iterator[tuple[type[models.Model], EncryptedJSONField]]:
    """Every :class:`EncryptedJSONField` on every concrete model of every installed app."""
    for model in apps.get_models():
        if model._meta.abstract or model._meta.proxy or not model._meta.managed:
            continue
        for field in model._meta.local_concrete_fields:
            if isinstance(field, EncryptedJSONField):
                yield model, field


def rotate_field(model: type[models.Model], field: EncryptedJSONField, *, batch_size: int = 500) -> RotationCount:
    """Re-encrypt one field's stored tokens under the first key, a batch per transaction.

    The tokens are read and written as text, bypassing the field, so rotation never needs the
    plaintext as a Python object and leaves tokens already under the first key untouched; running
    it twice rewrites nothing the second time.
    """
    manager = model._base_manager
    checked = rewritten = 0
    last_pk: Any = None
    while True:
        with transaction.atomic(using=manager.db):
            batch = manager.select_for_update().order_by("pk")
            if last_pk is not None:
                batch = batch.filter(pk__gt=last_pk)
            rows = list(
                batch.annotate(_token=Cast(field.attname, output_field=models.TextField()))
                .filter(**{f"{field.attname}__isnull": False})
                .values_list("pk", "_token")[:batch_size]
            )
            for pk, token in rows:
                checked += 1
                if crypto.is_current(token):
                    continue
                try:
                    fresh = crypto.reencrypt(token)
                except crypto.DecryptionError:
                    raise crypto.DecryptionError(
                        f"{model._meta.label}.{field.name} of row {pk} cannot be decrypted with any configured key."
                    ) from None
                manager.filter(pk=pk).update(**{field.attname: models.Value(fresh, output_field=models.TextField())})
                rewritten += 1
        if len(rows) < batch_size:
            return RotationCount(f"{model._meta.label}.{field.name}", checked, rewritten)
        last_pk = rows[-1][0]
