"""Bind every secret stored before binding existed to the destination it is used with today.

From here on a client refuses a secret whose binding does not match the connection's settings,
and a secret without one; the settings a secret was used with until now are the best record of
where its owner meant it to go.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations


def bind(apps: Any, schema_editor: Any) -> None:
    from connections.binding import bound_to, seal

    CloudConnection = apps.get_model("connections", "CloudConnection")
    for connection in CloudConnection.objects.filter(secret__isnull=False).iterator():
        secret = connection.secret or {}
        if not secret or bound_to(secret) or not connection.method:
            continue
        connection.secret = seal(connection.method, connection.config or {}, secret)
        connection.save(update_fields=["secret"])


class Migration(migrations.Migration):
    dependencies = [("connections", "0004_space_storage")]

    operations = [migrations.RunPython(bind, migrations.RunPython.noop)]
