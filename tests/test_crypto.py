"""Secrets at rest: the Fernet helpers, ``EncryptedJSONField`` and key rotation.

No product model uses the field yet, so each test gets a throwaway ``connections.Vault`` model:
defined inside the test, registered in the app registry only while the test runs, and given a
real table on PostgreSQL by the schema editor. That way the ORM, the raw column (read with SQL)
and ``rotate_encryption_keys`` (which walks the app registry) all see exactly what they would
see for a real model, while ``makemigrations`` never learns about it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from io import StringIO
from typing import Any

import pytest
from cryptography.fernet import Fernet
from django.apps import apps
from django.core import serializers
from django.core.exceptions import FieldError, ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.db import connection, models

from portal.audit.models import AuditEvent
from portal.audit.signals import _field_values
from portal.core import crypto
from portal.core.fields import EncryptedJSONField, SecretMaterial

SECRET = {"tenant_id": "contoso", "client_id": "app-1", "client_secret": "hunter2-very-secret"}
PLAINTEXT_MARKERS = ("hunter2", "client_secret", "contoso")
TABLE = "test_connections_vault"


def _new_key() -> str:
    return Fernet.generate_key().decode()


@pytest.fixture
def vault(db: None) -> Iterator[Any]:
    class Vault(models.Model):
        label = models.CharField(max_length=50)
        secret = EncryptedJSONField(null=True)

        class Meta:
            app_label = "connections"
            db_table = TABLE

        def __str__(self) -> str:
            return self.label

    with connection.schema_editor() as editor:
        editor.create_model(Vault)
    try:
        yield Vault
    finally:
        with connection.schema_editor() as editor:
            editor.delete_model(Vault)
        del apps.all_models["connections"]["vault"]
        apps.clear_cache()


def _stored(pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT secret FROM {TABLE} WHERE id = %s", [pk])  # noqa: S608
        return str(cursor.fetchone()[0])


def _rotate(*args: str) -> str:
    out = StringIO()
    call_command("rotate_encryption_keys", *args, stdout=out)
    return out.getvalue()


def test_encrypt_decrypt_and_reencrypt_round_trip(settings: Any) -> None:
    old, new = _new_key(), _new_key()
    settings.ENCRYPTION_KEYS = [old]
    token = crypto.encrypt("s3cret")
    assert "s3cret" not in token
    assert crypto.decrypt(token) == "s3cret"

    settings.ENCRYPTION_KEYS = [new, old]
    assert not crypto.is_current(token)
    rotated = crypto.reencrypt(token)
    assert crypto.is_current(rotated)
    assert Fernet(new.encode()).decrypt(rotated.encode()) == b"s3cret"


def test_invalid_key_is_a_configuration_error_that_does_not_echo_the_key(settings: Any) -> None:
    settings.ENCRYPTION_KEYS = [_new_key(), "not-a-fernet-key"]
    with pytest.raises(ImproperlyConfigured, match="number 2") as excinfo:
        crypto.encrypt("anything")
    assert "not-a-fernet-key" not in str(excinfo.value)


def test_round_trip_gives_masked_secret_material(vault: Any, settings: Any) -> None:
    settings.ENCRYPTION_KEYS = [_new_key()]
    created = vault.objects.create(label="azure", secret=SECRET)
    empty = vault.objects.create(label="none", secret=None)

    loaded = vault.objects.get(pk=created.pk)
    assert loaded.secret == SECRET
    assert isinstance(loaded.secret, SecretMaterial)
    assert isinstance(created.secret, SecretMaterial)
    assert vault.objects.get(pk=empty.pk).secret is None
    for shown in (repr(loaded.secret), str(loaded.secret), repr(created.secret), f"{loaded.secret}"):
        assert not any(marker in shown for marker in PLAINTEXT_MARKERS), shown
    assert list(vault.objects.filter(secret__isnull=True)) == [empty]


def test_stored_column_holds_only_ciphertext(vault: Any, settings: Any) -> None:
    key = _new_key()
    settings.ENCRYPTION_KEYS = [key]
    row = vault.objects.create(label="azure", secret=SECRET)

    stored = _stored(row.pk)
    assert not any(marker in stored for marker in PLAINTEXT_MARKERS)
    assert json.loads(Fernet(key.encode()).decrypt(stored.encode())) == SECRET


def test_serialized_rows_carry_ciphertext_and_load_back(vault: Any, settings: Any) -> None:
    settings.ENCRYPTION_KEYS = [_new_key()]
    row = vault.objects.create(label="azure", secret=SECRET)

    dumped = serializers.serialize("json", [row])
    assert not any(marker in dumped for marker in PLAINTEXT_MARKERS)
    (restored,) = serializers.deserialize("json", dumped)
    restored_row: Any = restored.object
    assert restored_row.secret == SECRET


def test_old_key_still_decrypts_and_rotation_lets_it_be_dropped(vault: Any, settings: Any) -> None:
    old, new = _new_key(), _new_key()
    settings.ENCRYPTION_KEYS = [old]
    rows = [vault.objects.create(label=f"row-{n}", secret={**SECRET, "n": n}) for n in range(5)]
    vault.objects.create(label="empty", secret=None)
    before = {row.pk: _stored(row.pk) for row in rows}

    settings.ENCRYPTION_KEYS = [new, old]
    assert vault.objects.get(pk=rows[0].pk).secret == {**SECRET, "n": 0}

    report = _rotate("--batch-size", "2")
    assert "connections.Vault.secret: 5 checked, 5 re-encrypted" in report
    for row in rows:
        assert _stored(row.pk) != before[row.pk]
        assert json.loads(Fernet(new.encode()).decrypt(_stored(row.pk).encode()))["n"] == row.secret["n"]

    assert "connections.Vault.secret: 5 checked, 0 re-encrypted" in _rotate()

    settings.ENCRYPTION_KEYS = [new]
    assert [row.secret["n"] for row in vault.objects.exclude(secret__isnull=True).order_by("pk")] == list(range(5))


def test_a_key_that_cannot_decrypt_gives_a_clear_error_without_the_secret(vault: Any, settings: Any) -> None:
    settings.ENCRYPTION_KEYS = [_new_key()]
    row = vault.objects.create(label="azure", secret=SECRET)
    stored = _stored(row.pk)

    settings.ENCRYPTION_KEYS = [_new_key()]
    with pytest.raises(crypto.DecryptionError) as excinfo:
        vault.objects.get(pk=row.pk)
    message = str(excinfo.value)
    assert "connections.Vault.secret" in message
    assert "SPACEPORT_ENCRYPTION_KEYS" in message
    assert stored not in message
    assert not any(marker in message for marker in PLAINTEXT_MARKERS)

    with pytest.raises(CommandError, match=f"row {row.pk} cannot be decrypted") as command_error:
        _rotate()
    assert stored not in str(command_error.value)
    assert _stored(row.pk) == stored


def test_lookups_on_ciphertext_are_refused(vault: Any, settings: Any) -> None:
    settings.ENCRYPTION_KEYS = [_new_key()]
    with pytest.raises(FieldError):
        list(vault.objects.filter(secret=SECRET))
    with pytest.raises(FieldError):
        list(vault.objects.filter(secret__client_secret="hunter2-very-secret"))


def test_field_is_masked_in_audit_and_deconstructs_stably(vault: Any, settings: Any) -> None:
    settings.ENCRYPTION_KEYS = [_new_key()]
    row = vault.objects.create(label="azure", secret=SECRET)
    assert _field_values(row) == {"id": row.pk, "label": "azure"}

    field = vault._meta.get_field("secret")
    assert field.audit_masked is True
    name, path, args, kwargs = field.deconstruct()
    assert (name, path, args, kwargs) == ("secret", "portal.core.fields.EncryptedJSONField", [], {"null": True})
    assert field.deconstruct() == (name, path, args, kwargs)


def test_each_rotation_run_is_audited_with_counts_and_never_a_key_or_value(vault: Any, settings: Any) -> None:
    old, new = _new_key(), _new_key()
    settings.ENCRYPTION_KEYS = [old]
    row = vault.objects.create(label="azure", secret=SECRET)
    settings.ENCRYPTION_KEYS = [new, old]
    _rotate()

    event = AuditEvent.objects.get(action="encryption_keys.rotate")
    assert event.outcome == AuditEvent.Outcome.SUCCESS
    assert "rotate_encryption_keys" in event.actor_label
    assert event.details["keys_configured"] == 2
    assert {"field": "connections.Vault.secret", "checked": 1, "rewritten": 1} in event.details["fields"]
    written = json.dumps(event.details) + event.actor_label + event.target_label
    for secret in (old, new, _stored(row.pk), *PLAINTEXT_MARKERS):
        assert secret not in written


def test_a_failed_rotation_run_is_audited_as_a_failure(vault: Any, settings: Any) -> None:
    settings.ENCRYPTION_KEYS = [_new_key()]
    row = vault.objects.create(label="azure", secret=SECRET)
    settings.ENCRYPTION_KEYS = [_new_key()]
    with pytest.raises(CommandError):
        _rotate()
    event = AuditEvent.objects.get(action="encryption_keys.rotate")
    assert event.outcome == AuditEvent.Outcome.FAILURE
    assert f"row {row.pk}" in event.details["error"]
    assert _stored(row.pk) not in json.dumps(event.details)
