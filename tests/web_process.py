"""A gunicorn web process on this run's test database, started as ``docker-compose.yml`` starts one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings

from tests.emulators import answers_http, free_port
from tests.fixtures.worker import ROOT, worker_database_url


@dataclass
class WebProcess:
    process: subprocess.Popen[bytes]
    log: Path
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]

    def wait_until_ready(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while not answers_http(self.port, "/healthz"):
            assert self.process.poll() is None, f"gunicorn exited:\n{self.output()}"
            if time.monotonic() > deadline:
                pytest.fail(f"gunicorn did not answer /healthz:\n{self.output()}")
            time.sleep(0.3)

    def stop(self) -> None:
        """The master and its workers (a session of their own), as a supervisor stops them."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)


def start_web(log: Path, env_extra: dict[str, str], workers: int = 1) -> WebProcess:
    """A gunicorn master with ``workers`` threaded worker processes (``spaceport.gunicorn_config``)
    on a free loopback port, on this run's database and broker; ``env_extra`` holds the
    deployment's settings."""
    env = os.environ.copy()
    env["DATABASE_URL"] = worker_database_url()
    env["CELERY_BROKER_URL"] = settings.CELERY_BROKER_URL
    env.pop("DATABASE_TEST_NAME", None)
    env.update(env_extra)
    port = free_port()
    argv = ["gunicorn", "spaceport.wsgi:application", "-c", "python:spaceport.gunicorn_config"]
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", *argv, "--bind", f"127.0.0.1:{port}", "--workers", str(workers)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return WebProcess(process, log, port)
