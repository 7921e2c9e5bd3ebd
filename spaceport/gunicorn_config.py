"""gunicorn's hooks for the web process: metrics shared by its workers (``-c python:spaceport.gunicorn_config``).

With ``PROMETHEUS_MULTIPROC_DIR`` set, each gunicorn worker writes its counts to files there and
``/metrics`` adds them up, whichever worker answers the scrape. The directory must start empty (a
restart would otherwise add the previous run's counts again), so the master empties it before it
forks; a worker that exits leaves its counts behind, which is right for counters and histograms,
the only kinds the web process keeps. The master never loads Django, so the hooks read the variable
from the environment as prometheus-client itself does.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from prometheus_client import multiprocess


def on_starting(server: Any) -> None:
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        shutil.rmtree(directory, ignore_errors=True)
        Path(directory).mkdir(parents=True, exist_ok=True)


def child_exit(server: Any, worker: Any) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(worker.pid)
