"""Organizations no longer point at their connection: the connection's ``active`` flag says which one
serves them (connections 0006 copied it there first)."""

from __future__ import annotations

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("portal", "0005_printable_text"),
        ("connections", "0006_active_connection"),
    ]

    operations = [
        migrations.RemoveField(model_name="organization", name="connection"),
    ]
