"""``manage.py rungateway``: the S3 gateway on its own port, beside web, worker and beat."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from django.core.management.base import BaseCommand, CommandParser

from gateway.server import application


class Command(BaseCommand):
    help = "Serve the S3 gateway (path-style buckets) on --host:--port."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="0.0.0.0")  # noqa: S104 - the gateway is a public service, like web
        parser.add_argument("--port", type=int, default=9000)

    def handle(self, *args: Any, **options: Any) -> None:
        web.run_app(application(), host=options["host"], port=options["port"], print=None)
