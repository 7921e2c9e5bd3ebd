"""A mixed load held for ten minutes: does anything fail, slow down or grow?

One gunicorn with two worker processes as ``spaceport/gunicorn_config.py`` ships them (threaded,
production settings, metrics shared through ``PROMETHEUS_MULTIPROC_DIR``), two Celery workers and beat, on
the local PostgreSQL and Redis, with the organization's storage on ``rclone serve s3``. wrk drives
three kinds of request side by side, each from its own connections, which wait ``--delay-ms``
between requests so the load stays below saturation and a slow minute shows as latency rather
than as a queue:

- credential vends: ``POST .../credentials/`` for read access with a personal API token; every
  vend after the first is served from the credential cache;
- list calls: organizations, spaces, a space's commits and the audit events, with the same token;
- page views: the dashboard, the organization and the space page with a signed-in session.

Meanwhile a thread starts a small commit (``--objects`` objects of 1 KiB written straight into the
folder rclone serves) through the API every ``--commit-every`` seconds, and every 10 s the resident
memory of each web and Celery process is read and ``/metrics`` scraped. wrk runs in one-minute
windows, so each minute has its own requests/s and latency percentiles; errors are counted by
request kind and by what went wrong (status code, or wrk's connect/read/write/timeout). At the end
every commit must have finished and every object arrived. Writes docs/benchmarks.md ("Soak").
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import secrets
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from commit import BUCKET, SETUP, fill, moved_completely
from support import (
    PYTHON,
    ROOT,
    Issuer,
    Server,
    celery_processes,
    gunicorn,
    machine,
    manage,
    parse_wrk,
    production_env,
    recreate_database,
    resident_mib,
    today,
    write_section,
)

sys.path.insert(0, str(ROOT))
from tests.emulators import start_rclone_s3
from tests.fixtures.worker import worker_argv

DATABASE = "spaceport_bench_soak"
QUEUE = "bench-soak"
# A Redis database of its own: the audit journal, caches and queues of another benchmark's run
# (or an experiment that ignores the lock) would otherwise mix with this one's.
REDIS_URL = "redis://127.0.0.1:6379/9"
WINDOW_SECONDS = 60
SAMPLE_SECONDS = 10
SPACE_API = "/api/v1/organizations/bench/spaces/data"

# Who the load acts as: the benchmark's user (commit.SETUP) with a personal API token and a session.
CREDENTIALS = """
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client
from portal.auth.tokens import issue_personal_token
user = get_user_model().objects.get(username="bench")
_, key = issue_personal_token(user, "soak")
browser = Client(HTTP_HOST="127.0.0.1")
browser.force_login(user)
print("TOKEN", key)
print("SESSION", settings.SESSION_COOKIE_NAME, browser.cookies[settings.SESSION_COOKIE_NAME].value)
"""

COMMIT_STATES = """
import json
from django.db.models import Count, Sum
from commits.models import Commit
rows = Commit.objects.values("state").annotate(n=Count("id"), moved=Sum("moved"), failed=Sum("failed"))
print("STATES", json.dumps({row["state"]: [row["n"], row["moved"], row["failed"]] for row in rows}))
"""

# Whether the vends were served from the credential cache, as their audit events say.
VEND_OUTCOMES = """
from portal.audit import journal
from portal.audit.models import AuditEvent
journal.drain()
events = AuditEvent.objects.filter(action="credential.issue")
print("VENDS", events.filter(details__cached=True).count(), events.exclude(details__cached=True).count())
"""

# One kind of request: (method, path, body) in turn on every connection, each answer's status
# counted, and a pause before a connection's next request.
LOAD_SCRIPT = """
{headers}
local calls = {{ {calls} }}
local turn = 0
statuses = {{}}
request = function()
  turn = turn % #calls + 1
  local call = calls[turn]
  return wrk.format(call[1], call[2], nil, call[3])
end
response = function(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end
delay = function()
  return {delay}
end
local threads = {{}}
setup = function(thread)
  table.insert(threads, thread)
end
done = function(summary, latency, requests)
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do
      io.write(string.format("STATUS %d %d\\n", status, count))
    end
  end
end
"""


@dataclass(frozen=True)
class Kind:
    """A kind of request in the mix: what it sends, how it signs in, and the answer that means success."""

    name: str
    label: str
    calls: tuple[tuple[str, str, str | None], ...]
    expected: int
    connections: int


def kinds(args: argparse.Namespace) -> list[Kind]:
    return [
        Kind(
            "vend",
            "cached vend",
            (("POST", f"{SPACE_API}/credentials/", '{"access": "read"}'),),
            201,
            args.vend_connections,
        ),
        Kind(
            "list",
            "list call",
            (
                ("GET", "/api/v1/organizations/", None),
                ("GET", "/api/v1/spaces/", None),
                ("GET", f"{SPACE_API}/commits/", None),
                ("GET", "/api/v1/audit-events/", None),
            ),
            200,
            args.list_connections,
        ),
        Kind(
            "page",
            "page view",
            (("GET", "/", None), ("GET", "/o/bench/", None), ("GET", "/o/bench/s/data/", None)),
            200,
            args.page_connections,
        ),
    ]


def lua_string(text: str) -> str:
    return json.dumps(text)


def load_script(kind: Kind, headers: dict[str, str], delay_ms: int) -> Path:
    calls = ", ".join(
        f"{{{lua_string(method)}, {lua_string(path)}, {lua_string(body) if body else 'nil'}}}"
        for method, path, body in kind.calls
    )
    header_lines = "\n".join(f"wrk.headers[{lua_string(k)}] = {lua_string(v)}" for k, v in headers.items())
    script = ROOT / "var" / f"bench-soak-{kind.name}.lua"
    script.write_text(LOAD_SCRIPT.format(headers=header_lines, calls=calls, delay=delay_ms))
    return script


@dataclass
class Window:
    """One kind of request over one minute, as wrk saw it."""

    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: Counter[str]


def run_window(url: str, kind: Kind, script: Path, seconds: int) -> subprocess.Popen[str]:
    argv = ["wrk", "-t1", f"-c{kind.connections}", f"-d{seconds}s", "--timeout", "5s", "--latency", "-s", str(script)]
    return subprocess.Popen([*argv, url], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def window_result(kind: Kind, process: subprocess.Popen[str]) -> Window:
    output, errors = process.communicate()
    if process.returncode:
        raise RuntimeError(f"wrk failed for {kind.name}: {errors}")
    wrk = parse_wrk(output, kind.connections)
    counted: Counter[str] = Counter()
    for status, count in re.findall(r"^STATUS (\d+) (\d+)$", output, re.MULTILINE):
        if int(status) != kind.expected:
            counted[f"HTTP {status}"] += int(count)
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    if sockets:
        for name, count in zip(("connect", "read", "write", "timeout"), sockets.groups(), strict=True):
            if int(count):
                counted[f"{name} error"] += int(count)
    return Window(wrk.requests_per_second, wrk.p50_ms, wrk.p99_ms, counted)


@dataclass
class Commits:
    """Small commits started through the API at a steady pace, with each start's latency and outcome by minute."""

    server: Server
    token: str
    every: float
    folders: list[str]
    started_at: float = 0.0
    latencies: dict[int, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[int, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    started: list[str] = field(default_factory=list)
    stopping: threading.Event = field(default_factory=threading.Event)

    def start_one(self, folder: str) -> None:
        request = urllib.request.Request(
            f"{self.server.url}{SPACE_API}/commits/",
            data=json.dumps({"root_dir": folder}).encode(),
            headers={"Authorization": f"Token {self.token}", "Content-Type": "application/json"},
            method="POST",
        )
        begun = time.monotonic()
        minute = int((begun - self.started_at) // WINDOW_SECONDS)
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                status = answer.status
        except urllib.error.HTTPError as exc:
            status = exc.code
        except OSError as exc:
            self.errors[minute][f"{type(exc).__name__}"] += 1
            return
        self.latencies[minute].append((time.monotonic() - begun) * 1000)
        if status == 202:
            self.started.append(folder)
        else:
            self.errors[minute][f"HTTP {status}"] += 1

    def run(self) -> None:
        self.started_at = time.monotonic()
        for number, folder in enumerate(self.folders):
            wait = self.started_at + number * self.every - time.monotonic()
            if self.stopping.wait(max(0.0, wait)):
                return
            self.start_one(folder)


@dataclass
class Processes:
    """The processes whose memory is followed, by the name the report gives them."""

    web_master: int
    web: list[int]
    workers: list[int]
    beat: int

    def named(self) -> dict[str, int]:
        named = {f"web worker {n + 1}": pid for n, pid in enumerate(self.web)}
        named |= {f"Celery worker {n + 1}": pid for n, pid in enumerate(self.workers)}
        return named | {"gunicorn master": self.web_master, "Celery beat": self.beat}


@dataclass
class Sampler:
    """Every 10 s: each process's resident memory, and a ``/metrics`` scrape like Prometheus's."""

    processes: Processes
    server: Server
    metrics_token: str
    samples: list[tuple[float, dict[str, float]]] = field(default_factory=list)
    scrape_errors: Counter[str] = field(default_factory=Counter)
    scrapes: int = 0
    stopping: threading.Event = field(default_factory=threading.Event)

    def sample(self, since: float) -> None:
        self.samples.append(
            (time.monotonic() - since, {name: resident_mib(pid) for name, pid in self.processes.named().items()})
        )
        request = urllib.request.Request(
            f"{self.server.url}/metrics", headers={"Authorization": f"Bearer {self.metrics_token}"}
        )
        self.scrapes += 1
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                answer.read()
        except urllib.error.HTTPError as exc:
            self.scrape_errors[f"HTTP {exc.code}"] += 1
        except OSError as exc:
            self.scrape_errors[type(exc).__name__] += 1

    def run(self) -> None:
        since = time.monotonic()
        while not self.stopping.is_set():
            self.sample(since)
            self.stopping.wait(SAMPLE_SECONDS)
        self.sample(since)

    def at(self, seconds: float) -> dict[str, float]:
        """Each process's memory at the first sample taken ``seconds`` into the run or later."""
        for taken, values in self.samples:
            if taken >= seconds:
                return values
        return self.samples[-1][1]


class Background(Protocol):
    stopping: threading.Event

    def run(self) -> None: ...


@contextmanager
def background(work: Background) -> Iterator[None]:
    """``work.run`` in a thread for as long as the block lasts; told to stop and waited for at its end."""
    thread = threading.Thread(target=work.run, daemon=True)
    thread.start()
    try:
        yield
    finally:
        work.stopping.set()
        thread.join(timeout=60)


def commit_states(env: dict[str, str]) -> dict[str, list[int]]:
    output = manage(env, "shell", "-c", COMMIT_STATES)
    return json.loads(output.split("STATES", 1)[1].strip().splitlines()[0])  # type: ignore[no-any-return]


def wait_for_commits(env: dict[str, str], seconds: float) -> tuple[dict[str, list[int]], float]:
    """The commits by state once none is queued or running (or the time is up), and how long that took."""
    begun = time.monotonic()
    while True:
        states = commit_states(env)
        if not {"queued", "running"} & states.keys() or time.monotonic() - begun > seconds:
            return states, time.monotonic() - begun
        time.sleep(2)


def vend_outcomes(env: dict[str, str]) -> tuple[int, int]:
    """How many vends the audit trail holds as served from the cache, and how many as newly signed."""
    hits, misses = manage(env, "shell", "-c", VEND_OUTCOMES).split("VENDS", 1)[1].split()[:2]
    return int(hits), int(misses)


def signed_in(env: dict[str, str]) -> tuple[str, str]:
    """A personal API token and a session cookie (``name=value``) for the benchmark's user."""
    output = manage(env, "shell", "-c", CREDENTIALS)
    token = output.split("TOKEN", 1)[1].split()[0]
    cookie_name, cookie_value = output.split("SESSION", 1)[1].split()[:2]
    return token, f"{cookie_name}={cookie_value}"


def check_each_kind(url: str, all_kinds: list[Kind], headers: dict[str, dict[str, str]]) -> None:
    """One request of each kind before the clock starts, so a broken setup fails in seconds, not minutes."""
    for kind in all_kinds:
        for method, path, body in kind.calls:
            request = urllib.request.Request(
                url + path, data=body.encode() if body else None, headers=headers[kind.name], method=method
            )
            try:
                with urllib.request.urlopen(request, timeout=30) as answer:
                    status = answer.status
            except urllib.error.HTTPError as exc:
                status = exc.code
            if status != kind.expected:
                raise RuntimeError(f"{method} {path} answered {status}, expected {kind.expected}")


def percent(value: float) -> str:
    return f"{value:+.1%}"


def errors_text(errors: Counter[str]) -> str:
    return ", ".join(f"{count:,} {name}" for name, count in errors.most_common()) or "none"


@dataclass
class Soak:
    """Everything one run measured."""

    minutes: int
    kinds: list[Kind]
    windows: list[dict[str, Window]]
    loads: list[float]
    commits: Commits
    sampler: Sampler
    states: dict[str, list[int]]
    drain_seconds: float
    arrived: int
    vends: tuple[int, int]
    load: tuple[tuple[float, float, float], tuple[float, float, float]]


def minute_table(soak: Soak) -> str:
    heads = " | ".join(f"{kind.label} p50 / p99 ms" for kind in soak.kinds)
    lines = [
        f"| minute | load (1 min) | requests/s | {heads} | commit start p50 / p99 ms | errors |",
        "|---:|---:|---:|" + "---:|" * len(soak.kinds) + "---:|---|",
    ]
    for minute, windows in enumerate(soak.windows):
        rps = sum(w.requests_per_second for w in windows.values()) + len(soak.commits.latencies[minute]) / 60
        cells = " | ".join(f"{windows[k.name].p50_ms:.1f} / {windows[k.name].p99_ms:.1f}" for k in soak.kinds)
        starts = sorted(soak.commits.latencies[minute])
        commit_cell = (
            f"{starts[len(starts) // 2]:.0f} / {starts[min(len(starts) - 1, math.ceil(0.99 * len(starts)) - 1)]:.0f}"
            if starts
            else "-"
        )
        errors: Counter[str] = Counter()
        for kind in soak.kinds:
            errors.update({f"{kind.name}: {name}": n for name, n in windows[kind.name].errors.items()})
        errors.update({f"commit: {name}": n for name, n in soak.commits.errors[minute].items()})
        load = soak.loads[minute]
        lines.append(f"| {minute + 1} | {load:.1f} | {rps:,.0f} | {cells} | {commit_cell} | {errors_text(errors)} |")
    return "\n".join(lines)


def memory_table(soak: Soak) -> str:
    warm, end = soak.sampler.at(WINDOW_SECONDS), soak.sampler.samples[-1][1]
    lines = [
        "| process | after minute 1 MiB | at the end MiB | change | peak MiB |",
        "|---|---:|---:|---:|---:|",
    ]
    for name in warm:
        peak = max(values[name] for _, values in soak.sampler.samples)
        change = (end[name] - warm[name]) / warm[name] if warm[name] else 0.0
        lines.append(f"| {name} | {warm[name]:.1f} | {end[name]:.1f} | {percent(change)} | {peak:.1f} |")
    return "\n".join(lines)


def verdicts(soak: Soak, objects: int) -> str:
    """The issue's goals, each met or missed on this run's figures."""
    errors: Counter[str] = Counter()
    for windows in soak.windows:
        for kind in soak.kinds:
            errors.update({f"{kind.name}: {name}": n for name, n in windows[kind.name].errors.items()})
    for minute_errors in soak.commits.errors.values():
        errors.update({f"commit: {name}": n for name, n in minute_errors.items()})
    errors.update({f"metrics scrape: {name}": n for name, n in soak.sampler.scrape_errors.items()})
    first, last = soak.windows[0], soak.windows[-1]
    tails = ", ".join(
        f"{kind.label} {first[kind.name].p99_ms:.1f} -> {last[kind.name].p99_ms:.1f} ms "
        f"({last[kind.name].p99_ms / first[kind.name].p99_ms:.2f}x)"
        for kind in soak.kinds
    )
    worst_tail = max(last[k.name].p99_ms / first[k.name].p99_ms for k in soak.kinds)
    warm, end = soak.sampler.at(WINDOW_SECONDS), soak.sampler.samples[-1][1]
    growth = {name: (end[name] - warm[name]) / warm[name] for name in warm if warm[name]}
    worst_name = max(growth, key=lambda name: abs(growth[name]))
    started = len(soak.commits.started)
    succeeded = soak.states.get("succeeded", [0, 0, 0])
    unfinished = sum(soak.states.get(state, [0])[0] for state in ("queued", "running"))
    failed = sum(soak.states.get(state, [0])[0] for state in ("failed", "partially_failed"))
    all_done = succeeded[0] == started and unfinished == failed == 0 and soak.arrived == started * objects

    def verdict(met: bool) -> str:
        return "**met**" if met else "**missed**"

    return f"""- No errors: {verdict(not errors)} ({errors_text(errors)}; {soak.sampler.scrapes} `/metrics` scrapes).
- p99 stable from the first minute to the last: {verdict(worst_tail <= 1.5)} (minute 1 -> minute
  {soak.minutes}: {tails}; "stable" read as at most 1.5x).
- Memory of each process within 10 % of its level after minute 1: {verdict(abs(growth[worst_name]) <= 0.10)}
  (largest change {percent(growth[worst_name])}, {worst_name}).
- Every commit finished: {verdict(all_done)} ({started} started, {succeeded[0]} succeeded,
  {failed} failed, {unfinished} still queued or running {soak.drain_seconds:.0f} s after the load
  stopped; {soak.arrived:,} of {started * objects:,} objects arrived in the space, none left in the loadingzone)."""


def report(soak: Soak, args: argparse.Namespace) -> str:
    (one_before, five_before, _), (one_after, five_after, _) = soak.load
    calls = "; ".join(f"{kind.label}: " + ", ".join(f"`{m} {p}`" for m, p, _ in kind.calls) for kind in soak.kinds)
    connections = ", ".join(f"{kind.connections} for the {kind.name}s" for kind in soak.kinds)
    note = f" {args.note.strip()}" if args.note.strip() else ""
    return f"""
Measured {today()} on {machine()}; `make bench-soak` ({soak.minutes} minutes).
Load average (1 / 5 min) {one_before:.1f} / {five_before:.1f} before and {one_after:.1f} / {five_after:.1f}
after: the machine is shared with other work running at the same time, so the latencies include
waiting for the CPU behind it.{note}

Set-up: one gunicorn with {args.web_workers} worker processes as `spaceport/gunicorn_config.py` ships them
(threaded, production settings, metrics shared through `PROMETHEUS_MULTIPROC_DIR`),
{args.workers} Celery workers (solo pool, every queue) and beat, PostgreSQL and Redis on this machine,
the organization's storage on `rclone serve s3`. wrk on the same machine, one process per kind of
request ({connections}), each connection pausing {args.delay_ms} ms between requests, in one-minute
windows. The mix, each kind's requests taken in turn: {calls}. Vends and list calls sign in with a
personal API token and open a connection per request (so both web processes take their share);
pages sign in with a session and keep their connection alive. A commit of {args.objects} objects of 1 KiB (written
straight into the folder rclone serves) is started through `POST {SPACE_API}/commits/` every
{args.commit_every:g} s, and every {SAMPLE_SECONDS} s the resident memory (VmRSS) of each process
is read and `/metrics` scraped.

{minute_table(soak)}

The load average is the machine's at the end of each minute. Requests/s counts every kind, commit
starts included; errors are any answer other than the kind's success (201 for a vend, 202 for a
commit start, 200 otherwise) and wrk's socket errors (connect, read, write, timeout after 5 s). The
audit trail holds {soak.vends[0]:,} vends served from the credential cache and {soak.vends[1]:,} newly signed.

{memory_table(soak)}

Goals (issue 15, item 6):

{verdicts(soak, args.objects)}
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", type=int, default=10)
    parser.add_argument("--web-workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--workers", type=int, default=2, help="Celery worker processes")
    parser.add_argument("--vend-connections", type=int, default=2)
    parser.add_argument("--list-connections", type=int, default=1)
    parser.add_argument("--page-connections", type=int, default=1)
    parser.add_argument("--delay-ms", type=int, default=50, help="each connection's pause between requests")
    parser.add_argument("--commit-every", type=float, default=2.0, metavar="SECONDS")
    parser.add_argument("--objects", type=int, default=5, help="objects per commit")
    parser.add_argument("--note", default="", help="a remark printed next to the figures")
    parser.add_argument("--no-write", action="store_true", help="print the figures only")
    args = parser.parse_args()

    (ROOT / "var").mkdir(exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="spaceport-bench-soak-"))
    store = start_rclone_s3(workdir)
    (store.root / BUCKET).mkdir(exist_ok=True)
    # Every folder is written before the store first lists anything: rclone serve s3 caches listings.
    seconds = args.minutes * WINDOW_SECONDS
    folders = [f"soak-{number:04d}" for number in range(math.ceil(seconds / args.commit_every))]
    for folder in folders:
        fill(store, folder, args.objects, 0, 0)
    issuer = Issuer()
    metrics_token = secrets.token_urlsafe(24)
    all_kinds = kinds(args)
    try:
        recreate_database(DATABASE)
        subprocess.run(["redis-cli", "-u", REDIS_URL, "flushdb"], check=True, capture_output=True)
        env = production_env(
            DATABASE,
            issuer,
            REDIS_URL=REDIS_URL,
            CELERY_TASK_DEFAULT_QUEUE=QUEUE,
            SPACEPORT_METRICS_TOKEN=metrics_token,
        )
        manage(env, "migrate", "--noinput", "-v", "0")
        manage(env, "collectstatic", "--noinput", "-v", "0")
        endpoint = f"ENDPOINT={store.endpoint_url!r}\nKEY={store.key.access_key_id!r}\n"
        manage(env, "shell", "-c", endpoint + f"SECRET={store.key.secret_access_key!r}\n" + SETUP)
        token, cookie = signed_in(env)
        # API clients connect afresh for every request, so both web processes share their load (a
        # kept-alive connection stays with the process that accepted it); the browser keeps its own.
        api = {"Authorization": f"Token {token}", "Content-Type": "application/json", "Connection": "close"}
        headers = {"vend": api, "list": api, "page": {"Cookie": cookie}}
        scripts = {kind.name: load_script(kind, headers[kind.name], args.delay_ms) for kind in all_kinds}
        web_env = {**env, "PROMETHEUS_MULTIPROC_DIR": str(workdir / "prometheus")}
        workers = [worker_argv(QUEUE, name=f"soak-{n}") for n in range(args.workers)]
        beat = [[PYTHON, "-m", "celery", "-A", "spaceport", "beat", "-l", "info", "--schedule", str(workdir / "beat")]]
        with (
            gunicorn(web_env, args.web_workers, "gunicorn-soak") as server,
            celery_processes(env, workers, "soak-worker") as started_workers,
            celery_processes(env, beat, "soak-beat", ready="Starting...") as started_beat,
        ):
            check_each_kind(server.url, all_kinds, headers)
            processes = Processes(server.pid, server.workers(), [p.pid for p in started_workers], started_beat[0].pid)
            load_before = os.getloadavg()
            commits = Commits(server, token, args.commit_every, folders)
            sampler = Sampler(processes, server, metrics_token)
            windows: list[dict[str, Window]] = []
            loads: list[float] = []
            with background(sampler), background(commits):
                for minute in range(args.minutes):
                    running = {k.name: run_window(server.url, k, scripts[k.name], WINDOW_SECONDS) for k in all_kinds}
                    windows.append({k.name: window_result(k, running[k.name]) for k in all_kinds})
                    loads.append(os.getloadavg()[0])
                    print(f"minute {minute + 1}:", {name: vars(w) for name, w in windows[-1].items()}, flush=True)
            load_after = os.getloadavg()
            states, drain_seconds = wait_for_commits(env, 300)
            vends = vend_outcomes(env)
            if processes.web != server.workers():
                raise RuntimeError(f"gunicorn replaced a worker during the run: {processes.web} -> {server.workers()}")
    finally:
        store.process.stop()
        issuer.stop()
    arrived = sum(args.objects for folder in commits.started if moved_completely(store, folder, args.objects))
    soak = Soak(
        args.minutes,
        all_kinds,
        windows,
        loads,
        commits,
        sampler,
        states,
        drain_seconds,
        arrived,
        vends,
        (load_before, load_after),
    )
    body = report(soak, args)
    print(body)
    if not args.no_write:
        write_section(ROOT / "docs" / "benchmarks.md", "Soak", body)


if __name__ == "__main__":
    main()
