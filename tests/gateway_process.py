"""The gateway served from a thread of its own on a free loopback port, as the client tests run it."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from aiohttp import web

from gateway.server import application
from tests.emulators import LOOPBACK, free_port


@contextmanager
def serving_app(app: web.Application) -> Iterator[str]:
    """Any aiohttp application on a free loopback port (the stand-ins for stores no emulator covers)."""
    port = free_port()
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(app)
    loop.run_until_complete(runner.setup())
    loop.run_until_complete(web.TCPSite(runner, LOOPBACK, port).start())
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{LOOPBACK}:{port}"
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


@contextmanager
def serving_gateway() -> Iterator[str]:
    """Yields the gateway's base URL; the server is stopped (its upstream session closed) after."""
    with serving_app(application()) as url:
        yield url
