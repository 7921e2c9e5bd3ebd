"""Liveness and readiness for load balancers and orchestrators.

``/healthz`` answers as soon as the process can serve a request and touches nothing else, so a
restart is never triggered by a dependency being down. ``/readyz`` checks what a request needs
(the database, Redis when configured, the Celery broker), each with a short timeout, so an
orchestrator stops sending traffic within seconds of one going away and resumes once it is back.
Neither reads the session or the caller's identity (:func:`portal.web.stateless.sessionless`), and
neither is rate-limited or audited: probes arrive every few seconds from the infrastructure.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import redis
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from kombu import Connection

from portal.web.stateless import sessionless

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 1


def database_reachable() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def redis_reachable() -> None:
    client = redis.Redis.from_url(
        settings.REDIS_URL, socket_connect_timeout=TIMEOUT_SECONDS, socket_timeout=TIMEOUT_SECONDS
    )
    try:
        client.ping()
    finally:
        client.close()


def broker_reachable() -> None:
    """Open (and close) a connection to the broker the workers read, giving up after the timeout."""
    transport_options = {
        **settings.CELERY_BROKER_TRANSPORT_OPTIONS,
        "socket_connect_timeout": TIMEOUT_SECONDS,
        "socket_timeout": TIMEOUT_SECONDS,
    }
    with Connection(
        settings.CELERY_BROKER_URL, connect_timeout=TIMEOUT_SECONDS, transport_options=transport_options
    ) as broker:
        broker.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=TIMEOUT_SECONDS)
        broker.default_channel  # noqa: B018 - a Redis channel pings the server when it opens


def readiness_checks() -> dict[str, Callable[[], None]]:
    """The dependencies a request needs, by the name ``/readyz`` reports them under."""
    checks: dict[str, Callable[[], None]] = {"database": database_reachable}
    if settings.REDIS_URL:
        checks["redis"] = redis_reachable
    checks["broker"] = broker_reachable
    return checks


@sessionless
@never_cache
@require_safe
def healthz(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")


@sessionless
@never_cache
@require_safe
def readyz(request: HttpRequest) -> JsonResponse:
    """200 with every check ``ok``, or 503 naming the checks that failed (never their addresses)."""
    results: dict[str, str] = {}
    for name, check in readiness_checks().items():
        try:
            check()
        except Exception as error:  # any failure means not ready, whatever raised it
            log.warning("readiness check %s failed: %s", name, type(error).__name__)
            results[name] = "unreachable"
        else:
            results[name] = "ok"
    ready = all(result == "ok" for result in results.values())
    return JsonResponse({"status": "ok" if ready else "unavailable", "checks": results}, status=200 if ready else 503)
