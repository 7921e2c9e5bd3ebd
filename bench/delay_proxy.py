"""A TCP proxy that holds every chunk for a fixed time in each direction: a store far away.

Used where the kernel cannot delay packets itself (no ``netem`` queueing discipline). Each chunk
read from one side is written to the other ``delay`` seconds later, in order; throughput is not
limited, only latency added, as a round trip over a longer network would. Run as
``python delay_proxy.py LISTEN_PORT TARGET_HOST TARGET_PORT ONE_WAY_MS``.
"""

from __future__ import annotations

import asyncio
import sys
from collections import deque


class Delayed:
    """One direction of one connection: chunks wait in a queue until their time has come."""

    def __init__(self, writer: asyncio.StreamWriter, delay: float) -> None:
        self.writer = writer
        self.delay = delay
        self.pending: deque[tuple[float, bytes]] = deque()
        self.loop = asyncio.get_running_loop()
        self.timer: asyncio.TimerHandle | None = None
        self.closing = False

    def push(self, data: bytes) -> None:
        self.pending.append((self.loop.time() + self.delay, data))
        if self.timer is None:
            self.timer = self.loop.call_at(self.pending[0][0], self.flush)

    def close(self) -> None:
        self.closing = True
        if self.timer is None:
            self.flush()

    def flush(self) -> None:
        self.timer = None
        now = self.loop.time()
        while self.pending and self.pending[0][0] <= now:
            self.writer.write(self.pending.popleft()[1])
        if self.pending:
            self.timer = self.loop.call_at(self.pending[0][0], self.flush)
        elif self.closing and not self.writer.is_closing():
            self.writer.close()


async def pump(reader: asyncio.StreamReader, out: Delayed) -> None:
    try:
        while data := await reader.read(65536):
            out.push(data)
    except (ConnectionError, OSError):
        pass
    out.close()


async def serve(listen_port: int, host: str, port: int, delay: float) -> None:
    async def connect(client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(host, port)
        except OSError:
            client_writer.close()
            return
        await asyncio.gather(
            pump(client_reader, Delayed(upstream_writer, delay)),
            pump(upstream_reader, Delayed(client_writer, delay)),
        )

    server = await asyncio.start_server(connect, "127.0.0.1", listen_port, backlog=1024)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    listen, target_host, target_port, one_way_ms = sys.argv[1:5]
    asyncio.run(serve(int(listen), target_host, int(target_port), float(one_way_ms) / 1000))
