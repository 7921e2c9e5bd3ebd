"""``/healthz`` and ``/readyz``: probes for load balancers and orchestrators, on the real services."""

from __future__ import annotations

import time

import pytest
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext

from portal.audit.models import AuditEvent
from portal.web.stateless import sessionless_paths
from tests.emulators import free_port


def test_healthz_answers_ok_without_touching_the_database_or_the_session(db: None) -> None:
    with CaptureQueriesContext(connection) as queries:
        response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.content == b"ok"
    assert response["Content-Type"].startswith("text/plain")
    assert not queries.captured_queries
    assert not hasattr(response.wsgi_request, "session"), "probes take the short, sessionless stack"
    assert not response.cookies
    assert "no-cache" in response["Cache-Control"]


def test_healthz_takes_the_same_short_stack_with_an_authorization_header(db: None) -> None:
    """The benchmark drives it with the vend's bearer header; the header changes nothing."""
    response = Client().get("/healthz", HTTP_AUTHORIZATION="Bearer not-a-token")
    assert response.status_code == 200
    assert not hasattr(response.wsgi_request, "session")
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Request-ID"]


@pytest.mark.django_db
def test_readyz_is_ready_with_postgresql_redis_and_the_broker() -> None:
    response = Client().get("/readyz")
    assert response.status_code == 200, response.content
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "redis": "ok", "broker": "ok"}}
    assert not hasattr(response.wsgi_request, "session")


@pytest.mark.django_db
def test_readyz_names_the_broker_when_it_goes_away_and_recovers_after() -> None:
    client = Client()
    secret = "s3cret-broker-password"
    broker = f"redis://:{secret}@127.0.0.1:{free_port()}/0"
    with override_settings(CELERY_BROKER_URL=broker):
        started = time.monotonic()
        response = client.get("/readyz")
        elapsed = time.monotonic() - started
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "checks": {"database": "ok", "redis": "ok", "broker": "unreachable"},
    }
    assert secret not in response.content.decode()
    assert "127.0.0.1" not in response.content.decode()
    assert elapsed < 5, "an orchestrator learns within seconds"

    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"]["broker"] == "ok"


@pytest.mark.django_db
def test_readyz_names_redis_when_it_goes_away() -> None:
    with override_settings(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0"):
        response = Client().get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "ok", "redis": "unreachable", "broker": "ok"}
    assert Client().get("/readyz").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_readyz_names_the_database_when_it_goes_away_and_recovers_after() -> None:
    """The connection is pointed at a closed port: outside a test transaction, so it can be dropped."""
    port = free_port()
    database = connection.settings_dict
    original = database["PORT"]
    connection.close()
    database["PORT"] = str(port)
    try:
        response = Client().get("/readyz")
    finally:
        connection.close()
        database["PORT"] = original
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == "unreachable"
    assert Client().get("/readyz").status_code == 200


@pytest.mark.django_db
def test_probes_are_neither_audited_nor_written_to_nor_limited() -> None:
    client = Client()
    for _ in range(50):
        assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_probes_answer_reads_only(db: None, path: str) -> None:
    assert Client().post(path).status_code == 405


def test_the_probes_are_known_by_path_so_pages_are_not_resolved_twice() -> None:
    assert sessionless_paths() == {"/healthz", "/readyz", "/metrics"}
