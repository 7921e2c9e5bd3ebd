"""The S3 gateway against direct access to the same ``rclone serve s3`` store, in the same run.

One ``rclone serve s3`` serves a folder; a Spaceport organization's S3-compatible connection points
at it, and the gateway (``manage.py rungateway``, production settings, PostgreSQL and Redis on this
machine) serves that organization's space ``data`` as the bucket ``bench-data``. Every figure is a
pair: the same request sent straight to rclone with rclone's own key, and through the gateway with a
Spaceport access key, one right after the other, so both share the machine's mood; a figure is the
ratio of the two within a round, and the table gives the median of the rounds with their minimum and
maximum.

- **Large objects**: a 64 MiB GET and PUT with curl (presigned URLs, so curl needs no signer) and
  with boto3 (``get_object`` / ``put_object``, its default checksum settings), as throughput.
- **Small objects**: a 4 KiB GET under wrk at 16 connections (presigned URL), requests per second.
- **Added latency**: the same GET at one connection: p50 and p99 of each, the difference of the p50s,
  and the CPU time each server spent per request (from ``/proc``, every process of the server).
- **Memory**: ``--soak SECONDS`` runs 64 wrk connections mixing 4 KiB GETs and 64 KiB PUTs through the
  gateway and samples each gateway process's resident memory; the figure compares the end with the
  level after the first minute.
- ``--profile SECONDS`` samples one gateway process with py-spy under the small-object load and says
  where its time goes.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from support import (
    PYTHON,
    ROOT,
    Issuer,
    WrkResult,
    free_port,
    machine,
    manage,
    parse_wrk,
    production_env,
    recreate_database,
    resident_mib,
    today,
    wait_until_healthy,
    write_section,
    wrk,
)

sys.path.insert(0, str(ROOT))
import boto3
from botocore.config import Config

from tests.emulators import RcloneS3, start_rclone_s3

DATABASE = "spaceport_bench_gateway"
BUCKET = "bench"
GATEWAY_BUCKET = "bench-data"
LARGE = 64 * 1024 * 1024
SMALL = 4 * 1024
SOAK_PUT = 64 * 1024
REGION = "us-east-1"
# A Redis database of its own: the access snapshots of another benchmark's database (whose users have
# the same ids) must never be read as this one's.
REDIS_URL = "redis://127.0.0.1:6379/8"

SETUP = """
from connections import lifecycle
from connections.active import make_active
from connections.models import CloudConnection, Status
from connections.storage import location_for
from django.contrib.auth import get_user_model
from portal.tenancy.changes import create_organization, create_space
from portal.tenancy.grants import Grant, Role, Scope
from accessgrants.accesskeys import issue_key
user = get_user_model().objects.create_user(username="bench", email="bench@example.com")
org = create_organization(name="bench")
space = create_space(org, name="data")
Grant.objects.create(user=user, scope=Scope.ORGANIZATION, role=Role.ACCESS, organization=org)
Grant.objects.create(user=user, scope=Scope.SPACE, role=Role.SUPPLIER, organization=org, space=space)
values = {"endpoint": ENDPOINT, "bucket": BUCKET, "access_key_id": KEY, "secret_access_key": SECRET,
          "prefix": "spaceport", "verify_tls": False}
c = lifecycle.create_connection(org, name="store", method="s3_static_keys", values=values, validate=False)
CloudConnection.objects.filter(pk=c.pk).update(status=Status.VALID)
make_active(c)
issued = issue_key(user, org, description="benchmark")
location = location_for(c, "data")
print("KEY", issued.key.access_key_id, issued.secret_key)
print("PREFIX", location.key(""))
"""


@dataclass(frozen=True)
class Target:
    """One way to reach the store: straight to rclone, or through the gateway."""

    name: str
    url: str
    access_key_id: str
    secret: str
    bucket: str
    prefix: str
    pids: tuple[int, ...] = ()

    def client(self) -> Any:
        return boto3.client(
            "s3",
            endpoint_url=self.url,
            aws_access_key_id=self.access_key_id,
            aws_secret_access_key=self.secret,
            region_name=REGION,
            config=Config(signature_version="s3v4", s3={"addressing_style": "path"}, retries={"max_attempts": 0}),
        )

    def key(self, name: str) -> str:
        return self.prefix + name

    def presigned(self, method: str, name: str, seconds: int = 6 * 3600) -> str:
        operation = {"GET": "get_object", "PUT": "put_object"}[method]
        params = {"Bucket": self.bucket, "Key": self.key(name)}
        return str(self.client().generate_presigned_url(operation, Params=params, ExpiresIn=seconds))


def cpu_seconds(pids: tuple[int, ...]) -> float:
    """User and system CPU time of the processes and their children so far."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        candidates = [pid, *children(pid)]
        for each in candidates:
            try:
                fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += int(fields[11]) + int(fields[12])
    return total / ticks


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(child) for child in (task / "children").read_text().split()]
        except OSError:
            continue
    return found + [grand for child in found for grand in children(child)]


@contextmanager
def gateway(env: dict[str, str], processes: int) -> Iterator[tuple[str, tuple[int, ...]]]:
    """``manage.py rungateway`` on a free loopback port; yields its URL and the processes serving."""
    port = free_port()
    log_path = ROOT / "var" / "bench-gateway.log"
    argv = [PYTHON, "manage.py", "rungateway", "--host", "127.0.0.1", "--port", str(port), "--metrics-port", "0"]
    if processes > 1:
        argv += ["--processes", str(processes)]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            wait_until_healthy(url, process, log_path)
            time.sleep(1)
            serving = children(process.pid) if processes > 1 else []
            yield url, tuple(serving or [process.pid])
        finally:
            process.terminate()
            process.wait(timeout=30)


def timed(work: Any) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def curl(*argv: str) -> None:
    """Run curl, its answer's body discarded unless the answer is an error."""
    status = subprocess.run(
        ["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", *argv], capture_output=True, text=True, check=True
    ).stdout
    if not status.startswith("2"):
        answer = subprocess.run(["curl", "-sS", *argv], capture_output=True, text=True).stdout
        raise RuntimeError(f"curl answered {status}: {answer[:500]}")


def curl_get(url: str) -> None:
    curl(url)


def curl_put(url: str, path: Path) -> None:
    curl("-T", str(path), url)


def boto_get(target: Target, name: str) -> None:
    body = target.client().get_object(Bucket=target.bucket, Key=target.key(name))["Body"]
    while body.read(1024 * 1024):
        pass


def boto_put(target: Target, name: str, path: Path) -> None:
    with path.open("rb") as data:
        target.client().put_object(Bucket=target.bucket, Key=target.key(name), Body=data)


@dataclass
class Pairs:
    """Direct and gateway figures of one measurement, round by round."""

    direct: list[float] = field(default_factory=list)
    gateway: list[float] = field(default_factory=list)

    def ratios(self, higher_is_better: bool = True) -> list[float]:
        pairs = zip(self.gateway, self.direct, strict=True)
        return [g / d if higher_is_better else d / g for g, d in pairs]


def spread(values: list[float], digits: int = 2) -> str:
    if len(values) == 1:
        return f"{values[0]:,.{digits}f}"
    return f"{statistics.median(values):,.{digits}f} ({min(values):,.{digits}f}-{max(values):,.{digits}f})"


def large_objects(direct: Target, through: Target, payload: Path, rounds: int) -> dict[str, Pairs]:
    """64 MiB GET and PUT with curl and boto3, seconds per transfer, direct then gateway each round."""
    results = {name: Pairs() for name in ("curl GET", "curl PUT", "boto3 GET", "boto3 PUT")}
    urls = {t.name: (t.presigned("GET", "large.bin"), t.presigned("PUT", "large-put.bin")) for t in (direct, through)}
    for _ in range(rounds):
        for target in (direct, through):
            side = results["curl GET"].direct if target is direct else results["curl GET"].gateway
            side.append(LARGE / timed(lambda t=target: curl_get(urls[t.name][0])))
            side = results["curl PUT"].direct if target is direct else results["curl PUT"].gateway
            side.append(LARGE / timed(lambda t=target: curl_put(urls[t.name][1], payload)))
            side = results["boto3 GET"].direct if target is direct else results["boto3 GET"].gateway
            side.append(LARGE / timed(lambda t=target: boto_get(t, "large.bin")))
            side = results["boto3 PUT"].direct if target is direct else results["boto3 PUT"].gateway
            side.append(LARGE / timed(lambda t=target: boto_put(t, "large-boto.bin", payload)))
    return results


@dataclass
class Loaded:
    """One wrk run against one target, with the server's CPU time spent meanwhile."""

    result: WrkResult
    cpu_ms_per_request: float


def loaded(target: Target, url: str, connections: int, seconds: int) -> Loaded:
    before = cpu_seconds(target.pids)
    result = wrk(url, {}, connections, seconds, "GET")
    spent = cpu_seconds(target.pids) - before
    requests = result.requests_per_second * seconds
    if result.errors or result.non_2xx:
        raise RuntimeError(f"{target.name}: {result.errors} socket errors, {result.non_2xx} non-2xx answers")
    return Loaded(result, 1000 * spent / requests if requests else 0.0)


def small_objects(
    direct: Target, through: Target, rounds: int, seconds: int, connections: int
) -> dict[str, dict[str, list[Loaded]]]:
    """4 KiB GETs at ``connections`` and at one connection, direct then gateway each round."""
    urls = {t.name: t.presigned("GET", "small.bin") for t in (direct, through)}
    runs: dict[str, dict[str, list[Loaded]]] = {"many": {"direct": [], "gateway": []}, "one": {}}
    runs["one"] = {"direct": [], "gateway": []}
    for target in (direct, through):
        wrk(urls[target.name], {}, 4, 2, "GET")
    for _ in range(rounds):
        for target in (direct, through):
            side = "direct" if target is direct else "gateway"
            runs["many"][side].append(loaded(target, urls[target.name], connections, seconds))
        for target in (direct, through):
            side = "direct" if target is direct else "gateway"
            runs["one"][side].append(loaded(target, urls[target.name], 1, seconds))
    return runs


# PUTs go to many keys in turn: rclone answers some concurrent PUTs of one key with 500.
SOAK_PUT_KEYS = 256
SOAK_SCRIPT = """
local get_path = "{get}"
local put_paths = {{{puts}}}
local body = string.rep("x", {size})
local n = 0
request = function()
  n = n + 1
  if n % 2 == 0 then
    return wrk.format("PUT", put_paths[(n / 2) % #put_paths + 1], nil, body)
  end
  return wrk.format("GET", get_path)
end
"""


@dataclass
class Soak:
    seconds: int
    samples: list[tuple[float, list[float]]]
    result: WrkResult

    def level(self, after: float) -> list[float]:
        """Each process's memory at the first sample taken ``after`` seconds or later."""
        for at, values in self.samples:
            if at >= after:
                return values
        return self.samples[-1][1]

    def growth(self, warm_up: float) -> list[float]:
        start, end = self.level(warm_up), self.samples[-1][1]
        return [(e - s) / s for s, e in zip(start, end, strict=True)]


def soak(through: Target, seconds: int, connections: int = 64) -> Soak:
    """``connections`` wrk connections mixing GET and PUT through the gateway for ``seconds``."""
    get_url = through.presigned("GET", "small.bin")
    puts = [through.presigned("PUT", f"soak/{n}.bin") for n in range(SOAK_PUT_KEYS)]
    base = get_url.split("/", 3)
    script = ROOT / "var" / "bench-gateway-soak.lua"
    quoted = ", ".join(f'"/{url.split("/", 3)[3]}"' for url in puts)
    script.write_text(SOAK_SCRIPT.format(get="/" + base[3], puts=quoted, size=SOAK_PUT))
    process = subprocess.Popen(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script), "/".join(base[:3])],
        stdout=subprocess.PIPE,
        text=True,
    )
    samples: list[tuple[float, list[float]]] = []
    started = time.monotonic()
    while process.poll() is None:
        samples.append((time.monotonic() - started, [resident_mib(pid) for pid in through.pids]))
        time.sleep(5)
    output = process.communicate()[0]
    samples.append((time.monotonic() - started, [resident_mib(pid) for pid in through.pids]))
    return Soak(seconds, samples, parse_wrk(output, connections))


PROFILE_RULES: list[tuple[str, str]] = [
    ("signature check (`gateway/sigv4.py`, `gateway/canonical.py`)", "gateway/sigv4.py"),
    ("signature check (`gateway/sigv4.py`, `gateway/canonical.py`)", "gateway/canonical.py"),
    ("access decision and key lookup (`accessgrants/`, Redis version check)", "accessgrants/"),
    ("access decision and key lookup (`accessgrants/`, Redis version check)", "portal/core/snapshots.py"),
    ("re-signing for the store (botocore SigV4)", "botocore/"),
    ("bucket and connection lookup (`gateway/buckets.py`, `gateway/upstream.py`, ORM)", "gateway/buckets.py"),
    ("bucket and connection lookup (`gateway/buckets.py`, `gateway/upstream.py`, ORM)", "gateway/upstream.py"),
    ("bucket and connection lookup (`gateway/buckets.py`, `gateway/upstream.py`, ORM)", "django/"),
    ("aiohttp client: request to the store, reading its answer", "aiohttp/client"),
    ("aiohttp client: request to the store, reading its answer", "aiohttp/connector"),
    ("aiohttp server: parsing the request, writing the answer", "aiohttp/web"),
    ("aiohttp server: parsing the request, writing the answer", "aiohttp/http"),
    ("thread hand-offs (executor)", "concurrent/futures"),
    ("event loop", "asyncio/"),
]
IDLE_FRAMES = ("select (", "epoll", "wait (", "_worker (")
COMMAND_FRAMES = ("(django/__main__.py:", "(manage.py:", "(django/core/management/")


def profile_group(stack: str) -> str:
    frames = stack.split(";")
    if frames and frames[-1].startswith(IDLE_FRAMES):
        return "idle"
    # The event loop runs under ``manage.py rungateway`` (each serving process under ``python -m
    # django``): Django's command frames are on every stack of the serving thread and say nothing
    # about where a request's time goes.
    stack = ";".join(frame for frame in frames if not any(command in frame for command in COMMAND_FRAMES))
    for name, marker in PROFILE_RULES:
        if marker in stack:
            return name
    return "other"


def profile(through: Target, seconds: int, connections: int) -> tuple[dict[str, float], int, float]:
    """Sample the first gateway process with py-spy while wrk loads it with small GETs."""
    output = ROOT / "var" / "bench-gateway-profile.txt"
    command = [str(Path(sys.executable).parent / "py-spy"), "record", "--pid", str(through.pids[0])]
    command += ["--duration", str(seconds), "--rate", "250", "--format", "raw", "--nonblocking", "--threads"]
    sampler = subprocess.Popen(
        [*command, "--output", str(output)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    result = wrk(through.presigned("GET", "small.bin"), {}, connections, seconds + 2, "GET")
    sampler.wait(timeout=60)
    counts: Counter[str] = Counter()
    for line in output.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        counts[profile_group(stack)] += int(count)
    busy = {group: count for group, count in counts.items() if group != "idle"}
    total = sum(busy.values()) or 1
    return {group: count / total for group, count in busy.items()}, total, result.requests_per_second


def verdict(met: bool) -> str:
    return "**met**" if met else "**missed**"


def soak_report(args: argparse.Namespace, soaked: Soak, load: tuple[float, float]) -> str:
    growth = soaked.growth(60)
    ends = zip(soaked.level(60), soaked.samples[-1][1], strict=True)
    levels = ", ".join(f"{s:.0f} -> {e:.0f} MiB" for s, e in ends)
    peak = max(max(values) for _, values in soaked.samples)
    worst = max(abs(g) for g in growth)
    return f"""
Measured {today()} on {machine()}; `make bench-gateway` ({args.processes} gateway processes, load average
(1 min) {load[0]:.1f} before and {load[1]:.1f} after). {soaked.seconds} s of 64 wrk connections mixing
4 KiB GETs and 64 KiB PUTs (over {SOAK_PUT_KEYS} keys) through the gateway to `rclone serve s3`
({soaked.result.requests_per_second:,.0f} requests/s, p50 {soaked.result.p50_ms:.1f} ms, p99
{soaked.result.p99_ms:.1f} ms, {soaked.result.errors} socket errors, {soaked.result.non_2xx} non-2xx
answers). Resident memory of each gateway process after the first minute and at the end: {levels}
(peak {peak:.0f} MiB); largest change {worst:.1%}; within 10 %: {verdict(worst <= 0.10)}.
"""


def report(
    args: argparse.Namespace,
    large: dict[str, Pairs],
    small: dict[str, dict[str, list[Loaded]]],
    profiled: tuple[dict[str, float], int, float] | None,
    load: tuple[float, float],
) -> str:
    lines = [
        "| transfer | direct MiB/s median (min-max) | gateway MiB/s median (min-max) "
        "| gateway / direct median (min-max) | goal |",
        "|---|---:|---:|---:|---|",
    ]
    for name, pairs in large.items():
        ratios = pairs.ratios()
        lines.append(
            f"| 64 MiB {name} | {spread([v / 2**20 for v in pairs.direct], 0)} "
            f"| {spread([v / 2**20 for v in pairs.gateway], 0)} | {spread(ratios)} "
            f"| >= 0.9: {verdict(statistics.median(ratios) >= 0.9)} |"
        )
    many_d, many_g = small["many"]["direct"], small["many"]["gateway"]
    side_by_side = zip(many_d, many_g, strict=True)
    rps_ratios = [g.result.requests_per_second / d.result.requests_per_second for d, g in side_by_side]
    one_d, one_g = small["one"]["direct"], small["one"]["gateway"]
    added = [g.result.p50_ms - d.result.p50_ms for d, g in zip(one_d, one_g, strict=True)]
    small_table = [
        "| 4 KiB GET | direct | gateway | gateway / direct median (min-max) | goal |",
        "|---|---:|---:|---:|---|",
        f"| requests/s at {args.connections} connections | "
        f"{spread([r.result.requests_per_second for r in many_d], 0)} "
        f"| {spread([r.result.requests_per_second for r in many_g], 0)} | {spread(rps_ratios)} "
        f"| >= 0.6: {verdict(statistics.median(rps_ratios) >= 0.6)} |",
        f"| p50 ms at {args.connections} connections | {spread([r.result.p50_ms for r in many_d])} "
        f"| {spread([r.result.p50_ms for r in many_g])} | | |",
        f"| p99 ms at {args.connections} connections | {spread([r.result.p99_ms for r in many_d])} "
        f"| {spread([r.result.p99_ms for r in many_g])} | | |",
        f"| p50 ms at 1 connection | {spread([r.result.p50_ms for r in one_d], 3)} "
        f"| {spread([r.result.p50_ms for r in one_g], 3)} | added {spread(added, 3)} ms "
        f"| added <= 0.2 ms: {verdict(statistics.median(added) <= 0.2)} |",
        f"| p99 ms at 1 connection | {spread([r.result.p99_ms for r in one_d], 3)} "
        f"| {spread([r.result.p99_ms for r in one_g], 3)} | | |",
        f"| CPU ms per request at 1 connection (all processes of the server) "
        f"| {spread([r.cpu_ms_per_request for r in one_d], 3)} | {spread([r.cpu_ms_per_request for r in one_g], 3)} "
        "| | |",
        f"| CPU ms per request at {args.connections} connections "
        f"| {spread([r.cpu_ms_per_request for r in many_d], 3)} "
        f"| {spread([r.cpu_ms_per_request for r in many_g], 3)} | | |",
    ]
    body = f"""
Measured {today()} on {machine()}; `make bench-gateway` ({args.processes} gateway processes on
{os.cpu_count()} cores, production settings, PostgreSQL and Redis on this machine, `rclone serve s3`
as the store, curl, boto3 and wrk on the same machine, {args.rounds} rounds). Load average (1 min)
{load[0]:.1f} before and {load[1]:.1f} after. Direct: the request straight to rclone with rclone's
key. Gateway: the same request to the gateway with a Spaceport access key (signature checked, the
key's owner's access decided, re-signed for rclone). Each round measures direct, then gateway; a
ratio is within its round.

{chr(10).join(lines)}

{chr(10).join(small_table)}

wrk sends a presigned URL (one signature check per request like any other). CPU per request counts
every process of each server (the gateway's CPU includes its database threads; rclone's is its one
process).
"""
    if profiled is not None:
        shares, samples, rps = profiled
        rows = "\n".join(
            f"| {group} | {share:.0%} |" for group, share in sorted(shares.items(), key=lambda item: -item[1])
        )
        body += f"""
Where one gateway process's busy time goes under 4 KiB GETs at {args.connections} connections (py-spy,
{samples:,} busy samples over all its threads, {rps:,.0f} requests/s in all; a sample counts toward the
first line whose code is on its stack; raw stacks in `var/bench-gateway-profile.txt`):

| where | share of busy samples |
|---|---:|
{rows}
"""
    return body


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3, help="0 to run only the memory run")
    parser.add_argument("--seconds", type=int, default=10, help="each wrk run")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--soak", type=int, default=600, metavar="SECONDS", help="0 to skip the memory run")
    parser.add_argument("--profile", type=int, default=10, metavar="SECONDS", help="0 to skip py-spy")
    parser.add_argument("--no-write", action="store_true", help="print the figures only")
    args = parser.parse_args()

    (ROOT / "var").mkdir(exist_ok=True)
    issuer = Issuer()
    workdir = Path(tempfile.mkdtemp(prefix="spaceport-bench-gateway-"))
    store: RcloneS3 = start_rclone_s3(workdir)
    try:
        store.client().create_bucket(Bucket=BUCKET)
        recreate_database(DATABASE)
        subprocess.run(["redis-cli", "-u", REDIS_URL, "flushdb"], check=True, capture_output=True)
        env = production_env(DATABASE, issuer, LOG_LEVEL="ERROR", REDIS_URL=REDIS_URL)
        manage(env, "migrate", "--noinput", "-v", "0")
        values = (
            f"ENDPOINT = {store.endpoint_url!r}\nBUCKET = {BUCKET!r}\nKEY = {store.key.access_key_id!r}\n"
            f"SECRET = {store.key.secret_access_key!r}\n"
        )
        output = manage(env, "shell", "-c", values + SETUP)
        key_id, secret = output.split("KEY ", 1)[1].split()[:2]
        prefix = output.split("PREFIX ", 1)[1].splitlines()[0].strip()
        payload = workdir / "large.bin"
        payload.write_bytes(os.urandom(LARGE))
        folder = store.root / BUCKET / prefix
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "large.bin").write_bytes(payload.read_bytes())
        (folder / "small.bin").write_bytes(os.urandom(SMALL))
        load_before = os.getloadavg()[0]
        with gateway(env, args.processes) as (url, pids):
            rclone = (store.process.popen.pid,)
            direct = Target(
                "direct",
                store.endpoint_url,
                store.key.access_key_id,
                store.key.secret_access_key,
                BUCKET,
                prefix,
                rclone,
            )
            through = Target("gateway", url, key_id, secret, GATEWAY_BUCKET, "", pids)
            if args.rounds:
                large = large_objects(direct, through, payload, args.rounds)
                small = small_objects(direct, through, args.rounds, args.seconds, args.connections)
                profiled = profile(through, args.profile, args.connections) if args.profile else None
                body = report(args, large, small, profiled, (load_before, os.getloadavg()[0]))
                if not args.no_write:
                    write_section(ROOT / "docs" / "benchmarks.md", "S3 gateway", body)
                print(body)
            if args.soak:
                load_before = os.getloadavg()[0]
                soaked = soak(through, args.soak)
                body = soak_report(args, soaked, (load_before, os.getloadavg()[0]))
                if not args.no_write:
                    write_section(ROOT / "docs" / "benchmarks.md", "S3 gateway: memory under a long mixed load", body)
                print(body)
    finally:
        issuer.stop()
        store.process.stop()


if __name__ == "__main__":
    main()
