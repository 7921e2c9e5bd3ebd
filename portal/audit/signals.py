"""Model signals that put every change of an audited model on the audit trail."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save

from portal.audit.trail import record

_SNAPSHOT = "_audit_before"


def _field_values(instance: models.Model) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for field in instance._meta.concrete_fields:
        if getattr(field, "audit_masked", False):
            continue
        value = getattr(instance, field.attname)
        values[field.name] = value if isinstance(value, (str, int, float, bool, list, dict, type(None))) else str(value)
    return values


def _remember(sender: type[models.Model], instance: models.Model, **kwargs: Any) -> None:
    if instance.pk is None or kwargs.get("raw"):
        return
    previous = sender._default_manager.filter(pk=instance.pk).first()
    setattr(instance, _SNAPSHOT, _field_values(previous) if previous is not None else None)


def _saved(sender: type[models.Model], instance: models.Model, created: bool, **kwargs: Any) -> None:
    if kwargs.get("raw"):
        return
    name = sender._meta.model_name
    after = _field_values(instance)
    if created:
        record(f"{name}.create", instance, details={"fields": after})
        return
    before = getattr(instance, _SNAPSHOT, None) or {}
    changes = {
        field: {"from": before.get(field), "to": value}
        for field, value in after.items()
        if before.get(field) != value and field not in ("modified", "last_used")
    }
    if changes:
        record(f"{name}.update", instance, details={"changes": changes})


def _deleted(sender: type[models.Model], instance: models.Model, **kwargs: Any) -> None:
    record(
        f"{sender._meta.model_name}.delete",
        instance,
        details={"fields": _field_values(instance)},
        link_organization=False,
    )


def _owners_changed(sender: Any, instance: models.Model, action: str, pk_set: set[int] | None, **kwargs: Any) -> None:
    if action in ("post_add", "post_remove", "post_clear"):
        record(
            f"{instance._meta.model_name}.owners.{action.removeprefix('post_')}",
            instance,
            details={"users": sorted(pk_set or [])},
        )


def audit_model(model: type[models.Model], *, m2m_fields: tuple[str, ...] = ()) -> None:
    """Record creates, updates and deletes of ``model`` (and changes of the named many-to-many fields)."""
    uid = f"audit-{model._meta.label_lower}"
    pre_save.connect(_remember, sender=model, dispatch_uid=f"{uid}-pre", weak=False)
    post_save.connect(_saved, sender=model, dispatch_uid=f"{uid}-post", weak=False)
    post_delete.connect(_deleted, sender=model, dispatch_uid=f"{uid}-delete", weak=False)
    for field_name in m2m_fields:
        through = getattr(model, field_name).through
        m2m_changed.connect(_owners_changed, sender=through, dispatch_uid=f"{uid}-{field_name}", weak=False)
