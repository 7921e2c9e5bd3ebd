"""``manage.py rungateway``: the S3 gateway on its own port, beside web, worker and beat."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from gateway.serving import Listen, operations_address, run, serve_one, supervise


class Command(BaseCommand):
    help = "Serve the S3 gateway on --host:--port, and its metrics and health on the operations port."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="0.0.0.0")  # noqa: S104 - the gateway is a public service, like web
        parser.add_argument("--port", type=int, default=9000)
        parser.add_argument(
            "--processes",
            type=int,
            default=None,
            help="processes sharing the port (SO_REUSEPORT); default SPACEPORT_S3_GATEWAY_PROCESSES",
        )
        parser.add_argument(
            "--metrics-port",
            type=int,
            default=None,
            help="port of /metrics, /healthz and /readyz (0: none); default SPACEPORT_S3_GATEWAY_METRICS_ADDR",
        )
        parser.add_argument("--reuse-port", action="store_true", help="bind the S3 port with SO_REUSEPORT")

    def handle(self, *args: Any, **options: Any) -> None:
        processes = options["processes"] or settings.SPACEPORT_S3_GATEWAY_PROCESSES
        if processes < 1:
            raise CommandError("--processes must be at least 1.")
        several = processes > 1
        listen = Listen(
            host=options["host"],
            port=options["port"],
            operations=operations_address(options["metrics_port"]),
            reuse_port=options["reuse_port"] or several,
        )
        status = run(supervise(listen, processes) if several else serve_one(listen))
        if status:
            raise SystemExit(status)
