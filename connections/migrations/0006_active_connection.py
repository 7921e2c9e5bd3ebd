"""The active connection moves from ``Organization.connection`` to a flag on the connection itself.

The connections app owns which of an organization's connections serves its spaces; a partial
unique constraint keeps it to one. The data is copied both ways, so the step can be undone
(``portal`` 0006 drops the old foreign key after this has run).
"""

from __future__ import annotations

from typing import Any

from django.db import migrations, models


def flag_active(apps: Any, schema_editor: Any) -> None:
    Organization = apps.get_model("portal", "Organization")
    CloudConnection = apps.get_model("connections", "CloudConnection")
    served = Organization.objects.filter(connection__isnull=False).values_list("pk", "connection_id")
    for organization_id, connection_id in served.iterator():
        CloudConnection.objects.filter(pk=connection_id, organization_id=organization_id).update(active=True)


def point_organizations_back(apps: Any, schema_editor: Any) -> None:
    Organization = apps.get_model("portal", "Organization")
    CloudConnection = apps.get_model("connections", "CloudConnection")
    active = CloudConnection.objects.filter(active=True).values_list("pk", "organization_id")
    for connection_id, organization_id in active.iterator():
        Organization.objects.filter(pk=organization_id).update(connection_id=connection_id)


class Migration(migrations.Migration):
    dependencies = [
        ("connections", "0005_bind_stored_secrets"),
        ("portal", "0005_printable_text"),
    ]

    operations = [
        migrations.AddField(
            model_name="cloudconnection",
            name="active",
            field=models.BooleanField(
                default=False,
                editable=False,
                help_text="The organization's spaces live in this connection; at most one per organization.",
            ),
        ),
        migrations.RunPython(flag_active, point_organizations_back),
        migrations.AddConstraint(
            model_name="cloudconnection",
            constraint=models.UniqueConstraint(
                condition=models.Q(active=True),
                fields=("organization",),
                name="one_active_connection_per_organization",
            ),
        ),
    ]
