"""Serving the gateway: one process, or several sharing the S3 port, and its operations port.

``rungateway --processes N`` with N above one starts N copies of itself, each binding the S3 port
with ``SO_REUSEPORT`` (the kernel spreads connections between them), and stays as their parent: it
serves the operations port (``/metrics`` adds up every process's samples through prometheus-client's
multiprocess mode, in a directory it makes and removes), stops them all on SIGINT or SIGTERM, and
stops them all and exits non-zero when one dies, for the process manager above to restart.
uvloop runs the event loop when it is installed and ``SPACEPORT_S3_GATEWAY_UVLOOP`` is on.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import signal
import ssl
import sys
import tempfile
from collections.abc import Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from gateway.operations import operations_application
from gateway.server import application

log = logging.getLogger("spaceport.gateway")

STOP_SECONDS = 15.0
_watchers: set[asyncio.Task[None]] = set()


@dataclass(frozen=True)
class Listen:
    """Where to serve: the S3 port, and the operations port (``None``: no operations listener)."""

    host: str
    port: int
    operations: tuple[str, int] | None
    reuse_port: bool = False


def tls_context() -> ssl.SSLContext | None:
    """HTTPS for the S3 port when ``SPACEPORT_S3_GATEWAY_TLS_CERT`` and ``_TLS_KEY`` name PEM files."""
    cert, key = settings.SPACEPORT_S3_GATEWAY_TLS_CERT, settings.SPACEPORT_S3_GATEWAY_TLS_KEY
    if not cert and not key:
        return None
    if not (cert and key):
        raise ImproperlyConfigured(
            "Set both SPACEPORT_S3_GATEWAY_TLS_CERT and SPACEPORT_S3_GATEWAY_TLS_KEY, or neither."
        )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert, key)
    return context


def operations_address(port: int | None) -> tuple[str, int] | None:
    """The operations listener: ``SPACEPORT_S3_GATEWAY_METRICS_ADDR``, its port replaced by ``port``
    when given; port 0 or an empty setting means none."""
    configured = settings.SPACEPORT_S3_GATEWAY_METRICS_ADDR
    host, _, configured_port = configured.rpartition(":")
    chosen = port if port is not None else int(configured_port or 0)
    if not chosen or (port is None and not configured):
        return None
    return (host or "127.0.0.1").strip("[]"), chosen


def run(main: Coroutine[Any, Any, int]) -> int:
    """Run ``main`` on uvloop when it is installed and turned on, asyncio's own loop otherwise."""
    if not settings.SPACEPORT_S3_GATEWAY_UVLOOP:
        return asyncio.run(main)
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    return uvloop.run(main)


def _stopped_by_signal() -> asyncio.Event:
    """Set on SIGINT or SIGTERM, or when this process's parent goes away (a supervising
    ``rungateway`` that was killed outright must not leave its children serving)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    parent = os.getppid()

    async def watch_parent() -> None:
        while os.getppid() == parent:
            await asyncio.sleep(1)
        stop.set()

    _watchers.add(loop.create_task(watch_parent()))  # the loop holds tasks weakly
    return stop


async def _operations_runner(where: tuple[str, int] | None) -> web.AppRunner | None:
    if where is None:
        return None
    runner = web.AppRunner(operations_application(), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, where[0], where[1]).start()
    return runner


async def serve_one(listen: Listen) -> int:
    """Serve S3 (and the operations port, if any) in this process until SIGINT or SIGTERM."""
    stop = _stopped_by_signal()
    runner = web.AppRunner(application(), access_log=None, shutdown_timeout=STOP_SECONDS)
    await runner.setup()
    await web.TCPSite(
        runner, listen.host, listen.port, ssl_context=tls_context(), reuse_port=listen.reuse_port or None
    ).start()
    operations = await _operations_runner(listen.operations)
    loop = type(asyncio.get_running_loop()).__module__.split(".")[0]
    log.info("gateway serving on %s:%s (pid %s, %s)", listen.host, listen.port, os.getpid(), loop)
    await stop.wait()
    if operations is not None:
        await operations.cleanup()
    await runner.cleanup()
    return 0


def _child_command(listen: Listen) -> list[str]:
    return [
        sys.executable, "-m", "django", "rungateway", "--host", listen.host, "--port", str(listen.port),
        "--processes", "1", "--reuse-port", "--metrics-port", "0",
    ]  # fmt: skip


async def supervise(listen: Listen, processes: int) -> int:
    """Start ``processes`` serving processes and serve the operations port until told to stop."""
    stop = _stopped_by_signal()
    samples = tempfile.mkdtemp(prefix="spaceport-gateway-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = samples
    project = str(Path(settings.BASE_DIR))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [project, os.environ.get("PYTHONPATH")]))}
    children: list[asyncio.subprocess.Process] = []
    operations = None
    try:
        operations = await _operations_runner(listen.operations)
        children = [await asyncio.create_subprocess_exec(*_child_command(listen), env=env) for _ in range(processes)]
        waiting = [asyncio.ensure_future(child.wait()) for child in children]
        stopping = asyncio.ensure_future(stop.wait())
        await asyncio.wait([stopping, *waiting], return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        if not stop.is_set():
            log.error("a gateway process exited unexpectedly; stopping the others")
            return 1
        return 0
    finally:
        await _stop_all(children)
        if operations is not None:
            await operations.cleanup()
        shutil.rmtree(samples, ignore_errors=True)


async def _stop_all(children: list[asyncio.subprocess.Process]) -> None:
    """SIGTERM (each finishes its requests and writes its key usage), then SIGKILL after a while."""
    for child in children:
        if child.returncode is None:
            child.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(asyncio.gather(*(child.wait() for child in children)), STOP_SECONDS + 5)
    except TimeoutError:
        for child in children:
            if child.returncode is None:
                child.kill()
        await asyncio.gather(*(child.wait() for child in children))
