"""The Celery application: settings under the ``CELERY`` prefix, tasks found in each app."""

from __future__ import annotations

import os
from logging.config import dictConfig
from typing import Any

from celery import Celery
from celery.signals import setup_logging, worker_process_init, worker_ready

from spaceport.heap import freeze_startup_objects

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "spaceport.settings")

app = Celery("spaceport", task_cls="spaceport.tasking:Task")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@setup_logging.connect
def use_the_portal_logging(**kwargs: Any) -> None:
    """Workers and beat log like the web process, through ``settings.LOGGING`` alone.

    Left to itself Celery adds its own handlers beside the ones Django configured, so most warnings
    were printed twice, in two formats.
    """
    from django.conf import settings

    dictConfig(settings.LOGGING)


@worker_ready.connect
@worker_process_init.connect
def leave_startup_objects_to_rest(**kwargs: Any) -> None:
    """A started worker (its pool's processes too) keeps start-up's objects out of collections."""
    freeze_startup_objects()
