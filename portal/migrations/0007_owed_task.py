"""Work a request asked for is recorded as owed until the broker has taken it (portal/core/dispatch.py)."""

from __future__ import annotations

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("portal", "0006_remove_organization_connection"),
    ]

    operations = [
        migrations.CreateModel(
            name="OwedTask",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("task", models.CharField(max_length=200)),
                ("args", models.JSONField(blank=True, default=list)),
                ("kwargs", models.JSONField(blank=True, default=dict)),
                ("created", models.DateTimeField(auto_now_add=True, db_index=True)),
                ("attempts", models.PositiveIntegerField(default=0, help_text="How often sending it failed.")),
                (
                    "error",
                    models.CharField(blank=True, help_text="Why the last try to send it failed.", max_length=500),
                ),
            ],
            options={
                "ordering": ["created", "id"],
            },
        ),
    ]
