"""Run web, worker, beat and the S3 gateway together for local use; Ctrl-C stops them all."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = (
        "Migrate, create the demo login, then run web, Celery worker, Celery beat and the S3 gateway until interrupted."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--addr", default="127.0.0.1:8000", help="address for the web server")
        parser.add_argument("--gateway-addr", default="127.0.0.1:9000", help="address for the S3 gateway")
        parser.add_argument(
            "--gateway-metrics-port", default="9101", help="the S3 gateway's metrics and health port (0: none)"
        )
        parser.add_argument("--no-demo", action="store_true", help="do not create the demo login and organization")

    def handle(self, *args: Any, **options: Any) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        if not options["no_demo"]:
            call_command("bootstrap_demo", url=f"http://{options['addr']}/")
        self.stdout.flush()
        python = sys.executable
        gateway_host, _, gateway_port = options["gateway_addr"].rpartition(":")
        metrics_port = options["gateway_metrics_port"]
        commands = {
            "web": [python, "manage.py", "runserver", options["addr"], "--noreload"],
            "worker": [python, "-m", "celery", "-A", "spaceport", "worker", "-l", "info", "--concurrency", "2"],
            "beat": [python, "-m", "celery", "-A", "spaceport", "beat", "-l", "info"],
            "gateway": [
                python,
                "manage.py",
                "rungateway",
                "--host",
                gateway_host,
                "--port",
                gateway_port,
                "--metrics-port",
                metrics_port,
            ],
        }
        processes = {
            name: subprocess.Popen(command, env=os.environ.copy(), start_new_session=True)
            for name, command in commands.items()
        }
        stopping = False

        def stop(signum: int, frame: object) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        try:
            while not stopping:
                for name, process in processes.items():
                    if process.poll() is not None:
                        self.stderr.write(f"{name} exited with status {process.returncode}; stopping the rest.")
                        stopping = True
                time.sleep(0.5)
        finally:
            # Each main process gets SIGTERM and stops its own children: signalling the whole group
            # killed the worker's pool processes under it, which it then reported as errors.
            for process in processes.values():
                if process.poll() is None:
                    process.terminate()
            deadline = time.monotonic() + 15
            for process in processes.values():
                remaining = max(0.1, deadline - time.monotonic())
                try:
                    process.wait(timeout=remaining)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
            self.stdout.write("Spaceport stopped.")
