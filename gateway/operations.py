"""The gateway's operations port: ``/metrics`` for Prometheus, ``/healthz`` (liveness) and
``/readyz`` (the database and Redis answer), kept off the S3 port, where ``/metrics`` is a bucket."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

import redis
from aiohttp import web
from django.conf import settings
from django.db import connection

from gateway.metrics import CONTENT_TYPE_LATEST, scrape

PROBE_TIMEOUT = 2.0


def database_reachable() -> None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    finally:
        connection.close()


def redis_reachable() -> None:
    client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1)
    try:
        client.ping()
    finally:
        client.close()


def readiness_checks() -> dict[str, Callable[[], None]]:
    checks: dict[str, Callable[[], None]] = {"database": database_reachable}
    if settings.REDIS_URL:
        checks["redis"] = redis_reachable
    return checks


async def _probe(check: Callable[[], None]) -> str:
    try:
        await asyncio.wait_for(asyncio.to_thread(check), PROBE_TIMEOUT)
    except Exception:
        return "failed"
    return "ok"


async def metrics_view(request: web.Request) -> web.Response:
    body = await asyncio.to_thread(scrape)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


async def healthz(request: web.Request) -> web.Response:
    return web.Response(text="ok")


async def readyz(request: web.Request) -> web.Response:
    checks = readiness_checks()
    results = dict(zip(checks, await asyncio.gather(*(_probe(check) for check in checks.values())), strict=True))
    ready = all(result == "ok" for result in results.values())
    return web.Response(status=200 if ready else 503, text=json.dumps(results), content_type="application/json")


def operations_application() -> web.Application:
    app = web.Application()
    app.router.add_get("/metrics", metrics_view)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    return app
