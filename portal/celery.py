"""The Celery application: settings under the ``CELERY_`` prefix, tasks found in each app."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("spaceport")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
