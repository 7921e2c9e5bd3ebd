"""The console stays readable: a handled 403 or 404 is one line without a traceback, and nothing is printed twice."""

from __future__ import annotations

import copy
import io
import logging
from collections.abc import Iterator
from contextlib import redirect_stderr
from typing import Any

import pytest
from django.urls import reverse
from django.utils.log import configure_logging

from portal.tenancy.models import Space
from tests.pages_support import client_for


@pytest.fixture
def console(settings: Any) -> Iterator[io.StringIO]:
    """The console as ``make run`` sets it up: Django's defaults first, then ours, with DEBUG on."""
    settings.DEBUG = True
    printed = io.StringIO()
    with redirect_stderr(printed):
        configure_logging(settings.LOGGING_CONFIG, settings.LOGGING)
    yield printed
    configure_logging(settings.LOGGING_CONFIG, settings.LOGGING)


def test_a_refused_page_logs_one_line_without_a_traceback(member: Any, space: Space, console: io.StringIO) -> None:
    response = client_for(member).post(reverse("space_create", args=["acme"]), {"space-name": "mine"})
    assert response.status_code == 403
    printed = console.getvalue()
    assert printed.count("Forbidden (Permission denied): /o/acme/spaces/new/") == 1, printed
    assert "Traceback" not in printed


def test_a_missing_page_logs_one_line_without_a_traceback(outsider: Any, space: Space, console: io.StringIO) -> None:
    assert client_for(outsider).get(reverse("organization", args=["acme"])).status_code == 404
    printed = console.getvalue()
    assert printed.count("Not Found: /o/acme/") == 1, printed
    assert "Traceback" not in printed


@pytest.mark.parametrize("name", ["django.security.csrf", "django.request", "commits.webhooks", "celery.worker"])
def test_a_warning_is_printed_once(name: str, console: io.StringIO) -> None:
    logging.getLogger(name).warning("only once please")
    assert console.getvalue().count("only once please") == 1


def test_a_server_error_keeps_its_traceback(console: io.StringIO) -> None:
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        logging.getLogger("django.request").error(
            "Internal Server Error: /x/", exc_info=True, extra={"status_code": 500}
        )
    printed = console.getvalue()
    assert "Traceback" in printed
    assert printed.count("Internal Server Error: /x/") == 1


def test_json_lines_carry_the_request_id(db: None, settings: Any) -> None:
    """``LOG_FORMAT=json``: one object a line, with the id the answer names in ``X-Request-ID``."""
    import json

    from django.test import Client

    from tests.emulators import free_port

    logging_config = copy.deepcopy(settings.LOGGING)
    logging_config["handlers"]["console"]["formatter"] = "json"
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{free_port()}/0"
    printed = io.StringIO()
    with redirect_stderr(printed):
        configure_logging(settings.LOGGING_CONFIG, logging_config)
    try:
        response = Client().get("/readyz", HTTP_X_REQUEST_ID="a" * 32)
    finally:
        configure_logging(settings.LOGGING_CONFIG, settings.LOGGING)
    assert response.status_code == 503
    lines = [json.loads(line) for line in printed.getvalue().splitlines() if line.strip()]
    failed = [line for line in lines if line["message"] == "readiness check broker failed: OperationalError"]
    assert len(failed) == 1, lines
    assert failed[0]["request_id"] == response["X-Request-ID"] == "a" * 32
    assert failed[0]["level"] == "WARNING" and failed[0]["logger"] == "spaceport.health"
