"""``/readyz`` while a dependency goes away and comes back, on servers of the test's own.

The machine's PostgreSQL, Redis and RabbitMQ serve other test runs, so they are never stopped:
a private ``redis-server`` on a free port is started, stopped and started again on the same port,
and a "silent" server (it accepts the TCP connection and then says nothing, like a host that hangs
or a firewall that drops the conversation) stands in for each dependency that stops answering.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test import Client, override_settings

from tests.emulators import free_port
from tests.outage import silent_server

PROMPT = 5  # seconds within which an orchestrator must learn of the outage


class PrivateRedis:
    def __init__(self, port: int, workdir: Path) -> None:
        self.port = port
        self.workdir = workdir
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        server = shutil.which("redis-server") or "/usr/bin/redis-server"
        argv = [server, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen(argv, cwd=self.workdir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as probe:
                    probe.sendall(b"PING\r\n")
                    if probe.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                pass
            assert time.monotonic() < deadline, "the private redis-server did not start"
            time.sleep(0.1)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    redis = PrivateRedis(free_port(), tmp_path)
    redis.start()
    try:
        yield redis
    finally:
        redis.stop()


def readiness() -> tuple[int, dict[str, str], float]:
    started = time.monotonic()
    response = Client().get("/readyz")
    return response.status_code, response.json()["checks"], time.monotonic() - started


@pytest.mark.django_db
def test_redis_and_the_broker_going_away_and_coming_back_on_the_same_address(private_redis: PrivateRedis) -> None:
    url = f"redis://127.0.0.1:{private_redis.port}/0"
    with override_settings(REDIS_URL=url, CELERY_BROKER_URL=url):
        status, checks, _ = readiness()
        assert (status, checks) == (200, {"database": "ok", "redis": "ok", "broker": "ok"})

        private_redis.stop()
        status, checks, elapsed = readiness()
        assert (status, checks) == (503, {"database": "ok", "redis": "unreachable", "broker": "unreachable"})
        assert elapsed < PROMPT

        private_redis.start()
        status, checks, elapsed = readiness()
        assert (status, checks) == (200, {"database": "ok", "redis": "ok", "broker": "ok"})


@pytest.mark.django_db
@pytest.mark.parametrize("scheme", ["redis", "amqp"])
def test_a_broker_that_stops_answering_is_named_within_seconds(scheme: str) -> None:
    with silent_server() as port:
        broker = f"redis://127.0.0.1:{port}/0" if scheme == "redis" else f"amqp://guest:guest@127.0.0.1:{port}//"
        with override_settings(CELERY_BROKER_URL=broker):
            status, checks, elapsed = readiness()
    assert (status, checks) == (503, {"database": "ok", "redis": "ok", "broker": "unreachable"})
    assert elapsed < PROMPT


@pytest.mark.django_db
def test_redis_that_stops_answering_is_named_within_seconds() -> None:
    with silent_server() as port, override_settings(REDIS_URL=f"redis://127.0.0.1:{port}/0"):
        status, checks, elapsed = readiness()
    assert (status, checks) == (503, {"database": "ok", "redis": "unreachable", "broker": "ok"})
    assert elapsed < PROMPT


@pytest.mark.postgres_only("libpq's connect timeout, from DATABASE_CONNECT_TIMEOUT")
@pytest.mark.django_db(transaction=True)
def test_a_database_that_stops_answering_is_named_within_seconds_and_recovers(settings: Any) -> None:
    """Outside a test transaction, so the connection can be dropped and opened again elsewhere."""
    database = connection.settings_dict
    assert database["OPTIONS"]["connect_timeout"] == 3
    original = database["PORT"]
    with silent_server() as port:
        connection.close()
        database["PORT"] = str(port)
        try:
            status, checks, elapsed = readiness()
        finally:
            connection.close()
            database["PORT"] = original
    assert status == 503
    assert checks["database"] == "unreachable"
    assert elapsed < PROMPT
    assert readiness()[0] == 200
