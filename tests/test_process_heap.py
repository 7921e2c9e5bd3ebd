"""Long-lived processes keep start-up's objects, botocore's models with them, out of collections."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from connections.providers.sdk import botocore_session

ROOT = Path(__file__).resolve().parent.parent


def test_sessions_parse_each_model_once_per_process() -> None:
    first, second = botocore_session(), botocore_session()
    assert first.get_component("data_loader") is second.get_component("data_loader")
    described = first.get_service_model("s3")._service_description
    assert second.get_service_model("s3")._service_description is described


def test_a_started_worker_freezes_what_start_up_left_including_the_s3_model() -> None:
    """In a process of its own: freezing the test runner's heap would change every later test."""
    script = textwrap.dedent(
        """
        import gc
        import django
        django.setup()
        from celery.signals import worker_process_init
        from connections.providers.sdk import shared_loader
        import spaceport.celery
        worker_process_init.send(sender=None)
        model = shared_loader().load_service_model("s3", "service-2")
        tracked = {id(o) for o in gc.get_objects()}
        print(gc.get_freeze_count(), id(model) in tracked)
        """
    )
    env = {"DJANGO_SETTINGS_MODULE": "spaceport.settings", "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=True
    )
    frozen, model_tracked = done.stdout.split()
    assert int(frozen) > 50_000
    assert model_tracked == "False"
