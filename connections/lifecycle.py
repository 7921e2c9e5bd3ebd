"""A connection's whole life: created (as a draft or submitted), edited, validated, disabled, enabled.

Every transition is one function here that checks its guard and raises a :class:`LifecycleRefused`
(a domain error on the ``status`` field) when the connection's state does not allow it; the API
and the pages only translate that error, so they answer the same request the same way:

==================  =====================================  ==================================
transition          allowed from                           refused with (code)
==================  =====================================  ==================================
edit                draft, validating, valid, invalid      disabled (``connection_disabled``)
start validation    draft (complete), validating, valid,   disabled (``connection_disabled``),
                    invalid                                incomplete draft (``draft_incomplete``)
validation outcome  validating                             disabled meanwhile (row kept as is)
disable             validating, valid, invalid             draft (``connection_is_draft``),
                                                           disabled (``connection_disabled``)
enable              disabled                               anything else (``connection_not_disabled``)
==================  =====================================  ==================================

A draft is not in use, so it is discarded (:func:`connections.drafts.discard_draft`) rather than
disabled. The outcome of a run is written by :func:`connections.probe.validate`, which the
validation task calls (this module starts tasks, so the tasks cannot call back into it); its update
excludes disabled rows, so a disable that lands mid-run wins. Tasks are enqueued on transaction
commit with the connection's primary key only (:mod:`connections.queue`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from connections import binding, queue, territory
from connections.active import serve_if_unserved
from connections.methods import clean_input, spec_for
from connections.models import CloudConnection, Status, new_external_id
from connections.providers.spec import ConnectionInputError
from portal.audit.trail import record
from portal.core.errors import DomainError
from portal.tenancy.models import Organization


class LifecycleRefused(DomainError):
    """The connection's state does not allow this transition; nothing was changed."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__("status", message, code)


DISABLED_NO_EDITS = "This connection is disabled; enable it before changing it."


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
            if not draft:
                serve_if_unserved(connection)
            if connection.status == Status.VALIDATING:
                queue.validate(connection.pk)
    except IntegrityError:
        raise ConnectionInputError({"name": "A connection with this name already exists here."}) from None
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
    is refused unless the secret is entered again (:mod:`connections.binding`). A disabled
    connection is not edited: enabling it validates it again as it was, and only then may it change.
    """
    check_editable(connection)
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
            serve_if_unserved(connection)
            if replaced or dropped:
                _record_secret_change(connection, replaced=replaced, removed=sorted(dropped))
            if validate:
                queue.validate(connection.pk)
    except IntegrityError:
        raise ConnectionInputError({"name": "A connection with this name already exists here."}) from None
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


def check_editable(connection: CloudConnection) -> None:
    """Refuse changing a disabled connection; the edit form asks this before it is even shown."""
    if connection.status == Status.DISABLED:
        raise LifecycleRefused(DISABLED_NO_EDITS, "connection_disabled")


def start_validation(connection: CloudConnection) -> CloudConnection:
    """Submit a complete draft, or validate a connection in use again (draft or in use -> validating)."""
    if connection.status == Status.DISABLED:
        raise LifecycleRefused("This connection is disabled; enable it before validating.", "connection_disabled")
    if connection.status == Status.DRAFT and connection.method and not _is_complete(connection):
        raise LifecycleRefused("This draft is incomplete; finish its fields first.", "draft_incomplete")
    with transaction.atomic():
        territory.claim(connection)
        CloudConnection.objects.filter(pk=connection.pk).update(status=Status.VALIDATING, status_message="")
        queue.validate(connection.pk)
    connection.status = Status.VALIDATING
    return connection


def _is_complete(connection: CloudConnection) -> bool:
    spec = connection.spec
    secret = connection.secret or {}
    return all((f.name in secret) if f.secret else (f.name in connection.config) for f in spec.fields if f.required)


def _check_disable(connection: CloudConnection) -> None:
    """Refuse disabling a draft (it is not in use: discard it) or a connection already disabled."""
    if connection.status == Status.DRAFT:
        raise LifecycleRefused(
            "A draft is not in use, so it cannot be disabled; discard it instead.", "connection_is_draft"
        )
    if connection.status == Status.DISABLED:
        raise LifecycleRefused("This connection is already disabled.", "connection_disabled")


def disable_connection(connection: CloudConnection, reason: str = "") -> CloudConnection:
    """Stop using the connection, and withdraw what it issued where the cloud allows it (see connections.spaces)."""
    _check_disable(connection)
    connection.status = Status.DISABLED
    connection.status_message = (reason or "Disabled by an administrator.")[:500]
    connection.save(update_fields=["status", "status_message", "modified"])
    queue.revoke_connection_credentials(connection.pk)
    return connection


def enable_connection(connection: CloudConnection) -> CloudConnection:
    """Validate a disabled connection again, unless another organization took its storage meanwhile."""
    if connection.status != Status.DISABLED:
        raise LifecycleRefused("This connection is not disabled.", "connection_not_disabled")
    with transaction.atomic():
        territory.claim(connection)
        connection.status = Status.VALIDATING
        connection.status_message = ""
        connection.save(update_fields=["status", "status_message", "modified"])
        queue.validate(connection.pk)
    return connection
