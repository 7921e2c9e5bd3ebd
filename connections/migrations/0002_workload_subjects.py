"""Give every web identity and workload identity connection its own random id.

Spaceport's issuer builds each connection's token subject on it; connections created before
the issuer existed had none (only cross-account roles did, for their ExternalId).
"""

from __future__ import annotations

import secrets
from typing import Any

from django.db import migrations

METHODS = ("aws_web_identity", "gcp_workload_identity")


def issue_ids(apps: Any, schema_editor: Any) -> None:
    connections = apps.get_model("connections", "CloudConnection")
    for connection in connections.objects.filter(method__in=METHODS, external_id__isnull=True):
        connection.external_id = "spaceport-" + secrets.token_hex(24)
        connection.save(update_fields=["external_id"])


class Migration(migrations.Migration):
    dependencies = [("connections", "0001_initial")]

    operations = [migrations.RunPython(issue_ids, migrations.RunPython.noop)]
