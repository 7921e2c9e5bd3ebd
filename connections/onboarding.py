"""Creating, changing and disabling connections, and starting their validation.

Validation is enqueued on transaction commit with the connection's primary key only: the
task re-reads the row, so no secret ever travels through the broker.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from connections import binding, queue, territory
from connections.methods import ConnectionInputError, clean_input, spec_for
from connections.models import CloudConnection, Status, new_external_id
from portal.audit import record
from portal.models import Organization


def create_connection(
    organization: Organization,
    *,
    name: str,
    method: str,
    values: Mapping[str, Any],
    created_by: Any = None,
    validate: bool = True,
    draft: bool = False,
) -> CloudConnection:
    """Check the input, store it (secret part encrypted), and start validating unless it is a draft.

    A draft keeps whatever was entered so far, so the wizard can come back to it; its fields are
    checked once it is submitted.
    """
    spec = spec_for(method)
    if draft:
        config, secret = _partial(method, values)
    else:
        config, secret = clean_input(method, values)
    connection = CloudConnection(
        organization=organization,
        name=name,
        provider=spec.provider,
        method=method,
        config=config,
        secret=secret or None,
        external_id=new_external_id() if spec.needs_connection_id else None,
        status=Status.DRAFT if draft or not validate else Status.VALIDATING,
        created_by=created_by,
    )
    try:
        connection.full_clean(exclude=["secret", "config", "external_id"], validate_constraints=False)
    except ValidationError as exc:
        raise ConnectionInputError({k: v[0] for k, v in exc.message_dict.items()}) from None
    try:
        with transaction.atomic():
            if connection.status != Status.DRAFT:
                territory.claim(connection)
            connection.save()
            if organization.connection_id is None and not draft:
                Organization.objects.filter(pk=organization.pk, connection__isnull=True).update(connection=connection)
    except IntegrityError:
        raise ConnectionInputError({"name": "A connection with this name already exists here."}) from None
    if connection.status == Status.VALIDATING:
        queue.validate(connection.pk)
    return connection


def _partial(method: str, values: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Keep the fields of a draft that already pass their check, and nothing else."""
    spec = spec_for(method)
    config: dict[str, Any] = {}
    secret: dict[str, Any] = {}
    for item in spec.fields:
        raw = values.get(item.name)
        if raw in (None, ""):
            continue
        try:
            (secret if item.secret else config)[item.name] = item.check(raw)
        except ValueError:
            continue
    return config, secret


def update_connection(
    connection: CloudConnection, *, values: Mapping[str, Any], name: str | None = None, validate: bool = True
) -> CloudConnection:
    """Change a connection's settings; secret fields left empty keep their stored value.

    A kept secret stays bound to its destination: changing a field that decides where it is sent
    is refused unless the secret is entered again (:mod:`connections.binding`).
    """
    stored = connection.secret or {}
    config, secret = clean_input(connection.method, values, existing_secret=stored)
    entered = {f.name for f in connection.spec.secret_fields if values.get(f.name) not in (None, "")}
    dropped = binding.refuse_moving(
        connection.method, old_config=connection.config, new_config=config, stored=stored, entered=entered
    )
    secret = {key: value for key, value in secret.items() if key not in dropped}
    replaced = sorted(name for name in entered if stored.get(name) != secret.get(name))
    connection.config = config
    connection.secret = binding.seal(connection.method, config, secret)
    if name is not None and name != connection.name:
        connection.name = name
        try:
            connection.full_clean(exclude=["secret", "config", "external_id"], validate_constraints=False)
        except ValidationError as exc:
            raise ConnectionInputError({k: v[0] for k, v in exc.message_dict.items()}) from None
    connection.status = Status.VALIDATING if validate else Status.DRAFT
    connection.status_message = ""
    try:
        with transaction.atomic():
            if validate:
                territory.claim(connection)
            connection.save()
            if connection.organization.connection_id is None:
                Organization.objects.filter(pk=connection.organization_id, connection__isnull=True).update(
                    connection=connection
                )
            if replaced or dropped:
                _record_secret_change(connection, replaced=replaced, removed=sorted(dropped))
    except IntegrityError:
        raise ConnectionInputError({"name": "A connection with this name already exists here."}) from None
    if validate:
        queue.validate(connection.pk)
    return connection


def _record_secret_change(connection: CloudConnection, *, replaced: list[str], removed: list[str]) -> None:
    """The model's own audit event cannot see inside the encrypted field: say which secret fields
    changed (never their values), and where the secret is now bound to."""
    record(
        "connection.secret.change",
        connection,
        details={
            "replaced": replaced,
            "removed": removed,
            "destination": binding.destination(connection.method, connection.config),
        },
    )


def start_validation(connection: CloudConnection) -> CloudConnection:
    if connection.status == Status.DISABLED:
        raise ConnectionInputError({"status": "This connection is disabled; enable it before validating."})
    if connection.status == Status.DRAFT and connection.method and not _is_complete(connection):
        raise ConnectionInputError({"status": "This draft is incomplete; finish its fields first."})
    with transaction.atomic():
        territory.claim(connection)
        CloudConnection.objects.filter(pk=connection.pk).update(status=Status.VALIDATING, status_message="")
    connection.status = Status.VALIDATING
    queue.validate(connection.pk)
    return connection


def _is_complete(connection: CloudConnection) -> bool:
    spec = connection.spec
    secret = connection.secret or {}
    return all((f.name in secret) if f.secret else (f.name in connection.config) for f in spec.fields if f.required)


def disable_connection(connection: CloudConnection, reason: str = "") -> CloudConnection:
    """Stop using the connection, and withdraw what it issued where the cloud allows it (see connections.spaces)."""
    connection.status = Status.DISABLED
    connection.status_message = (reason or "Disabled by an administrator.")[:500]
    connection.save(update_fields=["status", "status_message", "modified"])
    queue.revoke_connection_credentials(connection.pk)
    return connection


def enable_connection(connection: CloudConnection) -> CloudConnection:
    """Validate a disabled connection again, unless another organization took its storage meanwhile."""
    with transaction.atomic():
        territory.claim(connection)
        connection.status = Status.VALIDATING
        connection.status_message = ""
        connection.save(update_fields=["status", "status_message", "modified"])
    queue.validate(connection.pk)
    return connection
