"""gunicorn's configuration for the web process (``-c python:spaceport.gunicorn_config``).

**Workers.** One process per core, each serving requests on a pool of threads (gunicorn's
``gthread`` worker). A credential request spends about a third of its time waiting for Redis's
answer (the one script that confirms the access snapshot, counts the rate limit and journals the
audit entry); a sync worker idles through that wait, while a threaded one serves another request
meanwhile. Measured on 2 cores against the same code: threads gave the most vends per second at
16 and 64 connections (``docs/benchmarks.md``). Threaded workers also keep connections alive
between requests, where sync workers close every one. ``WEB_CONCURRENCY`` sets the number of
processes, ``GUNICORN_THREADS`` the threads of each; the command line overrides both.

**Metrics.** With ``PROMETHEUS_MULTIPROC_DIR`` set, each gunicorn worker writes its counts to files
there and ``/metrics`` adds them up, whichever worker answers the scrape. The directory must start
empty (a restart would otherwise add the previous run's counts again), so the master empties it
before it forks; a worker that exits leaves its counts behind, which is right for counters and
histograms, the only kinds the web process keeps.

The master never loads Django, so this module reads the environment itself, as prometheus-client
and gunicorn do.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from prometheus_client import multiprocess

DEFAULT_THREADS = 8


def cores() -> int:
    """The cores this process may run on (a container's CPU set, not the host's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


workers = int(os.environ.get("WEB_CONCURRENCY") or cores())
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS") or DEFAULT_THREADS)


def on_starting(server: Any) -> None:
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        shutil.rmtree(directory, ignore_errors=True)
        Path(directory).mkdir(parents=True, exist_ok=True)


def post_worker_init(worker: Any) -> None:
    """Once the worker has loaded Django, start-up's objects stay out of garbage collections."""
    from spaceport.heap import freeze_startup_objects

    freeze_startup_objects()


def child_exit(server: Any, worker: Any) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(worker.pid)
