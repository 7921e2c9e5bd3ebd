from __future__ import annotations

from django.apps import AppConfig


def watch_access_changes() -> None:
    """Start a new access snapshot version on every model change that can alter access.

    Bulk updates are included (:mod:`portal.audit.querysets`); users change only through saves.
    The snapshots themselves are a general cache (:mod:`portal.core.snapshots`); which changes
    make them stale is this app's knowledge, since it reads them on every credential request.
    """
    from django.contrib.auth import get_user_model
    from django.db.models.signals import m2m_changed, post_delete, post_save

    from accessgrants.models import AccessKey, IdentityPolicy, PolicyAttachment
    from connections.models import CloudConnection
    from portal.audit.querysets import rows_updated
    from portal.core.snapshots import changed
    from portal.tenancy.grants import Grant
    from portal.tenancy.models import Organization, Space

    user_model = get_user_model()
    for model in (Grant, Organization, Space, CloudConnection, IdentityPolicy, PolicyAttachment, AccessKey, user_model):
        uid = f"access-snapshot-{model._meta.label_lower}"
        post_save.connect(changed, sender=model, dispatch_uid=f"{uid}-save", weak=False)
        post_delete.connect(changed, sender=model, dispatch_uid=f"{uid}-delete", weak=False)
        if model is not user_model:
            rows_updated.connect(changed, sender=model, dispatch_uid=f"{uid}-update", weak=False)
    for through in (Organization.owners.through, user_model.groups.through):
        m2m_changed.connect(
            changed, sender=through, dispatch_uid=f"access-snapshot-{through._meta.label_lower}", weak=False
        )


class AccessGrantsConfig(AppConfig):
    name = "accessgrants"
    verbose_name = "Access grants"

    def ready(self) -> None:
        from accessgrants.models import IdentityPolicy, PolicyAttachment
        from portal.audit.signals import audit_model
        from portal.tenancy.grants import Grant

        audit_model(Grant)
        audit_model(IdentityPolicy)
        audit_model(PolicyAttachment)
        watch_access_changes()
