"""Credential vending under load, measured against a yardstick in the same run.

Runs the portal under gunicorn with production settings on the local PostgreSQL and Redis and
drives it with wrk. Absolute figures on a shared machine swing by almost 2x from one run to the
next, so every vend run is paired with a run of the bare endpoint ``GET /healthz`` (a plain view
returning ``ok``, no database, no Redis) through the same gunicorn configuration and the same
middleware: a header-authenticated vend and a probe both take the short, sessionless stack of
``portal.web.stateless``, and wrk sends the probe the same bearer header. What separates the two is the
vend itself. Per concurrency and round the runs go bare, cached vend, uncached vend, one after
the other, for three rounds or more; a vend's figure is its ratio to the bare run of its round.

Two gunicorns run side by side with the same settings, one with the token cache in use (every vend
after the first is a hit) and one with it defeated (every vend signs a new SAS); only the one
under load is busy. SQL queries per vend are counted in-process, and ``--profile`` samples one
worker with py-spy under each load (cached, uncached, bare) and writes where its time goes.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from support import (
    ROOT,
    Issuer,
    Server,
    WrkResult,
    gunicorn,
    machine,
    manage,
    production_env,
    recreate_database,
    today,
    write_section,
    wrk,
)

sys.path.insert(0, str(ROOT))
from spaceport import gunicorn_config
from tests.emulators import start_azurite

DATABASE = "spaceport_bench"
GOAL_QUERIES = 6
ROLES = ["org_bench_access", "bench_data_user"]
PATH = "/api/v2.0/accessmanager/read?organization=bench&space=data"
BARE_PATH = "/healthz"
KINDS = ("bare", "cached", "uncached")

SETUP = """
from azure.storage.blob import BlobServiceClient
from connections import lifecycle
from connections.active import make_active
from connections.models import CloudConnection, Status
from portal.tenancy.changes import create_organization, create_space
org = create_organization(name="bench", display_name="Benchmark")
create_space(org, name="data")
service = BlobServiceClient.from_connection_string(CONNECTION_STRING)
for container in ("data", "loadingzone"):
    service.create_container(container)
values = {"connection_string": CONNECTION_STRING}
c = lifecycle.create_connection(org, name="azure", method="azure_connection_string", values=values, validate=False)
CloudConnection.objects.filter(pk=c.pk).update(status=Status.VALID)
make_active(c)
"""

COUNT_QUERIES = """
import json
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
client = Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION="Bearer " + TOKEN)
counts = []
for _ in range(3):
    with CaptureQueriesContext(connection) as queries:
        response = client.post(PATH)
    assert response.status_code == 200, response.content
    counts.append(len(queries.captured_queries))
print("COUNTS", json.dumps(counts))
"""

CACHED_SHARE = """
from portal.audit import journal
from portal.audit.models import AuditEvent
journal.drain()
events = AuditEvent.objects.filter(action="credential.issue")
hits = events.filter(details__cached=True).count()
print("HITS", hits, events.count() - hits)
AuditEvent.objects.filter(action="credential.issue").delete()
"""


def count_queries(env: dict[str, str], token: str) -> list[int]:
    script = f"TOKEN = {token!r}\nPATH = {PATH!r}\n" + COUNT_QUERIES
    output = manage(env, "shell", "-c", script)
    return json.loads(output.split("COUNTS", 1)[1].strip().splitlines()[0])


def cache_outcomes(env: dict[str, str]) -> tuple[int, int]:
    line = manage(env, "shell", "-c", CACHED_SHARE).split("HITS", 1)[1].split()
    return int(line[0]), int(line[1])


@dataclass(frozen=True)
class Run:
    kind: str
    round: int
    result: WrkResult


def one_round(
    number: int, servers: dict[str, Server], headers: dict[str, str], concurrencies: list[int], seconds: int
) -> list[Run]:
    """Bare, cached, uncached at each concurrency in turn, so all three share the machine's mood."""
    runs = []
    for connections in concurrencies:
        for kind in KINDS:
            path, method = (BARE_PATH, "GET") if kind == "bare" else (PATH, "POST")
            runs.append(Run(kind, number, wrk(servers[kind].url + path, headers, connections, seconds, method)))
    return runs


def spread(values: list[float], digits: int = 0) -> str:
    return (
        f"{statistics.median(values):,.{digits}f} ({min(values):,.{digits}f}-{max(values):,.{digits}f})"
        if len(values) > 1
        else f"{values[0]:,.{digits}f}"
    )


@dataclass(frozen=True)
class Figures:
    """One kind of run at one concurrency over every round, with its ratio to the bare run of each round."""

    kind: str
    connections: int
    rps: list[float]
    ratios: list[float]
    p50: list[float]
    p99: list[float]
    errors: int

    @property
    def median_rps(self) -> float:
        return statistics.median(self.rps)

    @property
    def median_ratio(self) -> float:
        return statistics.median(self.ratios)

    @property
    def median_p50(self) -> float:
        return statistics.median(self.p50)

    @property
    def median_p99(self) -> float:
        return statistics.median(self.p99)

    @property
    def worst_tail(self) -> float:
        """The largest p99/p50 of any single run."""
        return max(p99 / p50 for p50, p99 in zip(self.p50, self.p99, strict=True))


def figures(runs: list[Run], concurrencies: list[int]) -> dict[tuple[str, int], Figures]:
    by_key = {(run.kind, run.result.connections, run.round): run.result for run in runs}
    rounds = sorted({run.round for run in runs})
    out = {}
    for connections in concurrencies:
        for kind in KINDS:
            results = [by_key[kind, connections, n] for n in rounds]
            bare = [by_key["bare", connections, n] for n in rounds]
            out[kind, connections] = Figures(
                kind,
                connections,
                [r.requests_per_second for r in results],
                [r.requests_per_second / b.requests_per_second for r, b in zip(results, bare, strict=True)],
                [r.p50_ms for r in results],
                [r.p99_ms for r in results],
                sum(r.errors + r.non_2xx for r in results),
            )
    return out


LABELS = {"bare": "bare `GET /healthz`", "cached": "cached vend", "uncached": "uncached vend (new SAS)"}


def table(results: dict[tuple[str, int], Figures], concurrencies: list[int]) -> str:
    lines = [
        "| connections | endpoint | requests/s median (min-max) | ratio to bare median (min-max) "
        "| p50 ms median (min-max) | p99 ms median (min-max) | errors |",
        "|---:|---|---:|---:|---:|---:|---:|",
    ]
    for connections in concurrencies:
        for kind in KINDS:
            row = results[kind, connections]
            ratio = "1" if kind == "bare" else spread(row.ratios, 2)
            lines.append(
                f"| {connections} | {LABELS[kind]} | {spread(row.rps)} | {ratio} "
                f"| {spread(row.p50, 1)} | {spread(row.p99, 1)} | {row.errors} |"
            )
    return "\n".join(lines)


def verdict(met: bool, detail: str) -> str:
    return f"**{'met' if met else 'missed'}**: {detail}"


def goals(results: dict[tuple[str, int], Figures], concurrencies: list[int]) -> str:
    """The issue's goals, each with whether this run met it and by how much it fell short."""
    lines = []
    at = 16 if 16 in concurrencies else max(concurrencies)
    cached, bare = results["cached", at], results["bare", at]
    ratio = cached.median_ratio
    lines.append(
        f"- Cached vends at least 0.6x the bare endpoint at {at} connections: "
        + verdict(ratio >= 0.6, f"{ratio:.2f}x (min {min(cached.ratios):.2f}, max {max(cached.ratios):.2f})")
        + ("." if ratio >= 0.6 else f", {ratio / 0.6:.2f} of the goal.")
    )
    allowed = min(2000.0, 0.6 * bare.median_rps)
    lines.append(
        f"- Cached vends at least 2,000/s where the bare endpoint allows it (0.6x its {bare.median_rps:,.0f}/s "
        f"is {0.6 * bare.median_rps:,.0f}/s, so the bar here is {allowed:,.0f}/s): "
        + verdict(cached.median_rps >= allowed, f"{cached.median_rps:,.0f}/s")
        + ("." if cached.median_rps >= allowed else f", {cached.median_rps / allowed:.2f} of it.")
    )
    lines.append(
        f"- Cached p99 at most 10 ms at {at} connections: "
        + verdict(cached.median_p99 <= 10, f"{cached.median_p99:.1f} ms")
        + ("." if cached.median_p99 <= 10 else f", {cached.median_p99 / 10:.2f}x the limit.")
    )
    for kind in ("cached", "uncached", "bare"):
        worst = max((results[kind, c] for c in concurrencies), key=lambda row: row.worst_tail)
        lines.append(
            f"- No p99 above 5x p50 at any concurrency, {LABELS[kind]}: "
            + verdict(worst.worst_tail <= 5, f"worst p99/p50 of any run {worst.worst_tail:.1f} at {worst.connections}")
            + "."
        )
    low = min((results["uncached", c] for c in concurrencies), key=lambda row: row.median_ratio)
    lines.append(
        "- Uncached vends at least 0.3x the bare endpoint at every concurrency: "
        + verdict(low.median_ratio >= 0.3, f"lowest median ratio {low.median_ratio:.2f}x at {low.connections}")
        + ("." if low.median_ratio >= 0.3 else f", {low.median_ratio / 0.3:.2f} of the goal.")
    )
    return "\n".join(lines)


# Where a sample goes: the first rule whose markers all appear in its stack (a frame reads
# "function (path:line)").
PROFILE_RULES: list[tuple[str, tuple[str, ...]]] = [
    (
        "Redis: reading the snapshot version (`portal/core/snapshots.py`)",
        ("redis/", "version (portal/core/snapshots.py"),
    ),
    ("Redis: reading the snapshot version (`portal/core/snapshots.py`)", ("redis/", "_read (portal/core/snapshots.py")),
    (
        "Redis: the script counting the rate limit and journaling the audit entry (`portal/audit/journal.py`)",
        ("redis/", "journal_within_limit (portal/audit/journal.py"),
    ),
    (
        "Redis: a miss's script counting it and looking the credential up (`portal/audit/journal.py`)",
        ("redis/", "counted_and_held (portal/audit/journal.py"),
    ),
    ("Redis: other calls (a new credential's audit entry)", ("redis/",)),
    # py-spy names the Azure SDK's files below the ``azure`` namespace package: "(core/...", "(blob/...".
    ("Azure SDK: asking for the container's stored access policy (HTTP to Azurite)", ("(core/",)),
    ("Azure SDK: asking for the container's stored access policy (HTTP to Azurite)", ("(blob/",)),
    ("signing the SAS and building the credential (`connections/providers/azure/`)", ("connections/providers/azure/",)),
    ("Fernet: a credential in Redis encrypted or decrypted (`portal/core/crypto.py`)", ("portal/core/crypto.py",)),
    ("JWT verification (PyJWT, RSA signature)", ("jwt/",)),
    ("JWT verification (PyJWT, RSA signature)", ("cryptography/",)),
    ("bearer authentication besides the JWT (claims to user)", ("portal/auth/bearer.py",)),
    ("building the audit entry", ("portal/audit/journal.py",)),
    ("building the audit entry", ("portal/audit/trail.py",)),
    ("access decision and cached credential (`accessgrants/`)", ("accessgrants/",)),
    ("Django request cycle, middleware, request parsing", ("django/",)),
    ("Django request cycle, middleware, request parsing", ("whitenoise/",)),
    ("Django request cycle, middleware, request parsing", ("portal/",)),
    ("gunicorn: reading the request, writing the answer, closing", ("gunicorn/workers/",)),
]
RATE = 250  # py-spy samples per second
# The functions a thread waits in for a connection or a request (py-spy names methods "Class.name").
IDLE_FUNCTIONS = frozenset({"select", "wait", "accept", "poll", "_worker"})
IDLE = "idle, waiting for a connection or a request"


def profile_group(stack: str) -> str:
    """The group of one sampled stack; a thread of the pool waiting for work (``_worker``) is idle."""
    frames = stack.split(";")
    function = frames[-1].split(" (", 1)[0].rsplit(".", 1)[-1] if frames else ""
    if "django/" not in stack and function in IDLE_FUNCTIONS:
        return IDLE
    for name, markers in PROFILE_RULES:
        if all(marker in stack for marker in markers):
            return name
    return "other"


@dataclass(frozen=True)
class Profile:
    """Samples of every thread of every worker process under load, by group, and the load they served.

    With a pool of threads, a group's time per request adds up what every thread spent on it, waits
    included. Every worker is sampled: a kept-alive connection stays with the worker that accepted
    it, so the load need not split evenly between them.
    """

    counts: dict[str, int]
    seconds: float
    rate: int
    requests_per_second: float

    @property
    def samples(self) -> int:
        return sum(self.counts.values())

    @property
    def shares(self) -> dict[str, float]:
        """Each group's share of the samples in which a thread was serving a request."""
        busy = sum(count for group, count in self.counts.items() if group != IDLE) or 1
        return {group: count / busy for group, count in self.counts.items() if group != IDLE}

    def ms_per_request(self, group: str) -> float:
        """Thread time spent in the group, spread over the requests served while sampling."""
        return self.counts.get(group, 0) / self.rate * 1000 / (self.requests_per_second * self.seconds)


def profile(
    name: str, server: Server, path: str, method: str, headers: dict[str, str], connections: int, seconds: int
) -> Profile:
    """Sample every worker with py-spy (idle time included) while wrk loads ``path``."""
    outputs = []
    samplers = []
    for number, worker in enumerate(server.workers()):
        output = ROOT / "var" / f"bench-vend-profile-{name}-{number}.txt"
        command = [str(Path(sys.executable).parent / "py-spy"), "record", "--pid", str(worker)]
        command += ["--duration", str(seconds), "--rate", str(RATE), "--format", "raw", "--nonblocking", "--idle"]
        samplers.append(
            subprocess.Popen([*command, "--output", str(output)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        )
        outputs.append(output)
    result = wrk(server.url + path, headers, connections, seconds + 2, method)
    counts: Counter[str] = Counter()
    for sampler, output in zip(samplers, outputs, strict=True):
        sampler.wait(timeout=60)
        for line in output.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            if count.isdigit():  # py-spy ends the file with an empty line
                counts[profile_group(stack)] += int(count)
    return Profile(dict(counts), seconds, RATE, result.requests_per_second)


def breakdown(profiles: dict[str, Profile], workers: int) -> str:
    vend = profiles["cached"]
    groups = sorted(vend.shares, key=lambda group: -vend.shares[group])
    for other in profiles.values():
        groups += [group for group in other.shares if group not in groups]
    lines = [
        "| where | cached vend: share of samples | cached vend: ms per request "
        "| uncached vend: ms per request | bare `/healthz`: ms per request |",
        "|---|---:|---:|---:|---:|",
    ]
    for group in groups:
        lines.append(
            f"| {group} | {vend.shares.get(group, 0.0):.0%} | {vend.ms_per_request(group):.2f} "
            f"| {profiles['uncached'].ms_per_request(group):.2f} "
            f"| {profiles['bare'].ms_per_request(group):.2f} |"
        )
    order = KINDS[1:] + KINDS[:1]
    totals = " | ".join(f"{sum(profiles[kind].ms_per_request(g) for g in groups):.2f}" for kind in order)
    lines.append(f"| all (thread time per request served, waits included) | 100% | {totals} |")
    elapsed = " | ".join(f"{1000 * workers / profiles[kind].requests_per_second:.2f}" for kind in KINDS[1:] + KINDS[:1])
    lines.append(f"| a worker process's elapsed time per request served | | {elapsed} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    # gunicorn runs as shipped (spaceport/gunicorn_config.py); --workers overrides its process count.
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 4, 16, 64])
    parser.add_argument("--profile", type=int, default=0, metavar="SECONDS", help="sample a worker with py-spy")
    parser.add_argument("--note", default="", help="a remark printed next to the figures (e.g. the machine's load)")
    args = parser.parse_args()
    workers = args.workers or gunicorn_config.workers
    threads = int(os.environ.get("GUNICORN_THREADS") or gunicorn_config.threads)

    (ROOT / "var").mkdir(exist_ok=True)
    issuer = Issuer()
    workdir = Path(tempfile.mkdtemp(prefix="spaceport-bench-"))
    azurite = start_azurite(workdir)
    hits = misses = 0
    profiles: dict[str, Profile] = {}
    try:
        recreate_database(DATABASE)
        env = production_env(DATABASE, issuer)
        manage(env, "migrate", "--noinput", "-v", "0")
        manage(env, "collectstatic", "--noinput", "-v", "0")
        manage(env, "shell", "-c", f"CONNECTION_STRING = {azurite.connection_string!r}\n" + SETUP)
        token = issuer.token("bench-user", ROLES, "spaceport")
        headers = {"Authorization": f"Bearer {token}"}
        queries = count_queries(env, token)
        uncached_env = {**env, "SPACEPORT_CREDENTIAL_CACHE_BUFFER": "100000"}
        load = os.getloadavg()
        with ExitStack() as stack:
            cached = stack.enter_context(gunicorn(env, args.workers, "gunicorn-cached"))
            uncached = stack.enter_context(gunicorn(uncached_env, args.workers, "gunicorn-uncached"))
            servers = {"bare": cached, "cached": cached, "uncached": uncached}
            for server in (cached, uncached):
                wrk(server.url + PATH, headers, 1, 2)
            wrk(cached.url + BARE_PATH, headers, 1, 2, "GET")
            cache_outcomes(env)
            runs: list[Run] = []
            for number in range(args.rounds):
                runs.extend(one_round(number, servers, headers, args.concurrency, args.seconds))
                round_hits, round_misses = cache_outcomes(env)
                hits, misses = hits + round_hits, misses + round_misses
            if args.profile:
                for kind in KINDS:
                    path, method = (BARE_PATH, "GET") if kind == "bare" else (PATH, "POST")
                    profiles[kind] = profile(kind, servers[kind], path, method, headers, 16, args.profile)
        load_after = os.getloadavg()
    finally:
        issuer.stop()
        azurite.process.stop()

    results = figures(runs, args.concurrency)
    vend_requests = {
        kind: round(sum(run.result.requests_per_second * args.seconds for run in runs if run.kind == kind))
        for kind in ("cached", "uncached")
    }
    note = f"\n\n{args.note.strip()}" if args.note.strip() else ""
    body = f"""
Measured {today()} on {machine()}; `make bench-vend` (gunicorn as shipped, `spaceport/gunicorn_config.py`:
{workers} worker processes of {threads} threads each, keep-alive; production
settings, PostgreSQL and Redis on this machine, wrk on the same machine, {args.seconds} s per run,
{args.rounds} rounds). Load average (1 min) {load[0]:.1f} before and {load_after[0]:.1f} after.{note}

Each vend is `POST {PATH}` with a bearer JWT (RS256, verified against the issuer's JWKS) whose
role claims allow read; the answer is the SAS query string, as AccessManager answers it. The
organization's storage is an Azure connection string to Azurite (a miss signs the SAS under the
container's stored access policy; whether the container and the policy are there is asked at most
once a minute, see `docs/vending.md`). Cached: the token cache in use, every vend after the first a hit.
Uncached: `SPACEPORT_CREDENTIAL_CACHE_BUFFER` longer than the lifetime, every vend signs a new SAS
(a second gunicorn with the same settings otherwise, idle while the others run).

The yardstick is `GET {BARE_PATH}` on the cached vend's gunicorn, sent the same bearer header by
the same wrk: a plain view answering `ok` with no database, Redis or session. Probes and
header-authenticated AccessManager calls take the same short middleware stack
(`portal/web/stateless.py`: request context, security, CSP, common and clickjacking middleware; no
session, CSRF, messages or allauth), so the ratio is what the vend itself costs on top of serving
any request through this gunicorn on this machine at that moment. The runs go bare, cached,
uncached at each concurrency, round after round; each vend's ratio is to the bare run just before
it, and the table gives the median of the rounds with their minimum and maximum.

{table(results, args.concurrency)}

The audit trail received {hits:,} cached and {misses:,} uncached issuance events for about
{vend_requests["cached"]:,} cached and {vend_requests["uncached"]:,} uncached vends (requests/s times
duration): every vend is audited. SQL queries per vend, measured in-process: first request (creates
the user, cache miss) {queries[0]}, then {queries[1]} and {queries[2]} (cache hits); goal at most
{GOAL_QUERIES}.

Goals (issue 16), judged on the medians:

{goals(results, args.concurrency)}
"""
    if profiles:
        loads = ", ".join(
            f"{profiles[kind].samples:,} samples under the {LABELS[kind]} load at "
            f"{profiles[kind].requests_per_second:,.0f}/s"
            for kind in KINDS[1:] + KINDS[:1]
        )
        body += f"""
Where the time goes at 16 connections (py-spy sampling every thread of each of the {workers}
worker processes for {args.profile} s, idle threads included: {loads}). A sample counts toward the
first line whose code is on its stack, so a Redis call's line includes the wait for Redis's answer
(and, with threads, a wait for the interpreter lock after a system call counts where the thread
stands); ms per request adds up what the threads spent on the line and spreads it over the requests
served meanwhile. Threads overlap, so the total exceeds a worker process's elapsed time per request
(the last line). The share leaves out threads waiting for a connection or a request. The raw stacks
are in `var/bench-vend-profile-*.txt`.

{breakdown(profiles, workers)}
"""
    write_section(ROOT / "docs" / "benchmarks.md", "Credential vending", body)
    print(body)


if __name__ == "__main__":
    main()
