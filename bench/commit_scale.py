"""How a commit scales over worker processes when the store is a network round trip away.

10,000 small objects are committed by 1, 2 and 4 Celery worker processes (solo pool, the same
``SPACEPORT_COMMIT_CONCURRENCY`` each) taking the slices of one commit from one queue, against one
``rclone serve s3`` store behind 10 ms of round-trip latency; each setting runs three times and the
median, minimum and maximum are reported. One worker alone is then run at rising concurrency to
show where it saturates. ``--memory`` instead commits 100,000 objects with no added latency and
samples each worker's resident memory while it moves them. Writes docs/benchmarks.md.

The latency would best come from the kernel (a network namespace and ``tc qdisc ... netem``), but
the kernel this was written on has no netem (``netem_missing`` asks it, and the figures say why),
so a delaying TCP proxy on loopback (``delay_proxy.py``) holds every chunk for half the round trip
in each direction. The proxy takes CPU of its own on the same cores; the figures say so.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

from commit import BUCKET, COMMIT, SETUP, fill, moved_completely, settle_disk
from support import (
    PYTHON,
    ROOT,
    Issuer,
    celery_processes,
    cpu_seconds,
    free_port,
    machine,
    manage,
    production_env,
    recreate_database,
    resident_mib,
    today,
    write_section,
)

sys.path.insert(0, str(ROOT))
from tests.emulators import RcloneS3, start_rclone_s3
from tests.fixtures.worker import worker_argv

DATABASE = "spaceport_bench_commit_scale"
QUEUE = "bench-commit-scale"


def netem_missing() -> str:
    """Why the kernel cannot add the latency itself, or "" when a netns with netem works here."""
    namespace = "spaceport-bench-probe"
    subprocess.run(["ip", "netns", "del", namespace], capture_output=True)
    made = subprocess.run(["ip", "netns", "add", namespace], capture_output=True, text=True)
    if made.returncode:
        return f"`ip netns add` failed: {made.stderr.strip()}"
    try:
        subprocess.run(["ip", "-n", namespace, "link", "set", "lo", "up"], check=True)
        netem = subprocess.run(
            ["tc", "-n", namespace, "qdisc", "add", "dev", "lo", "root", "netem", "delay", "5ms"],
            capture_output=True,
            text=True,
        )
        return f"`tc qdisc add ... netem` failed: {netem.stderr.strip()}" if netem.returncode else ""
    finally:
        subprocess.run(["ip", "netns", "del", namespace], capture_output=True)


@contextmanager
def delayed(store: RcloneS3, one_way_ms: float) -> Iterator[tuple[str, int | None]]:
    """The store's endpoint behind the delaying proxy, and the proxy's process id (or the store
    itself and None with no delay)."""
    if not one_way_ms:
        yield store.endpoint_url, None
        return
    port = free_port()
    target = store.endpoint_url.rsplit(":", 1)
    proxy = subprocess.Popen(
        [PYTHON, str(ROOT / "bench" / "delay_proxy.py"), str(port), "127.0.0.1", target[1], str(one_way_ms)]
    )
    time.sleep(1)
    try:
        yield f"http://127.0.0.1:{port}", proxy.pid
    finally:
        proxy.terminate()
        proxy.wait(timeout=10)


def workers(
    env: dict[str, str], count: int, concurrency: int, slice_size: int = 500
) -> AbstractContextManager[list[subprocess.Popen[bytes]]]:
    """``count`` workers on the benchmark's queue, started up and idle before any commit is timed."""
    env = {**env, "SPACEPORT_COMMIT_CONCURRENCY": str(concurrency), "SPACEPORT_COMMIT_SLICE_SIZE": str(slice_size)}
    argvs = [worker_argv(QUEUE, name=f"bench-{number}") for number in range(count)]
    return celery_processes(env, argvs, "scale-worker", ready=None)


class CpuMeter:
    """CPU milliseconds per object, by process group (workers, store, proxy), summed over runs."""

    def __init__(self, groups: dict[str, list[int]]) -> None:
        self.groups = groups
        self.used = dict.fromkeys(groups, 0.0)
        self.objects = 0

    @contextmanager
    def measure(self, objects: int) -> Iterator[None]:
        before = {name: sum(cpu_seconds(pid) for pid in pids) for name, pids in self.groups.items()}
        yield
        for name, pids in self.groups.items():
            self.used[name] += sum(cpu_seconds(pid) for pid in pids) - before[name]
        self.objects += objects

    def per_object(self) -> dict[str, float]:
        return {name: 1000 * used / max(self.objects, 1) for name, used in self.used.items()}


class Runner:
    """Commits folders of the store's loadingzone through the bench organization and times them.

    Every folder is written before the store first lists anything: ``rclone serve s3`` caches
    directory listings, so a folder written later would not show.
    """

    def __init__(self, store: RcloneS3, env: dict[str, str], runs: int, objects: int) -> None:
        self.store = store
        self.env = env
        self.runs = 0
        for run in range(1, runs + 1):
            fill(store, f"run-{run:03d}", objects, 0, 0)

    def commit(self, objects: int, sample: list[subprocess.Popen[bytes]] | None = None) -> tuple[float, list[str]]:
        """Seconds to commit ``objects`` fresh objects, and (with ``sample``) the workers' memory over time."""
        self.runs += 1
        folder = f"run-{self.runs:03d}"
        settle_disk()
        # The script also reports one worker's CPU, which is not read here: CpuMeter counts every worker.
        store = self.store.process.popen.pid
        bench = str(ROOT / "bench")
        names = f"ROOT_DIR = {folder!r}\nBENCH = {bench!r}\nSTORE_PID = {store}\nWORKER_PID = {store}\n"
        shell = subprocess.Popen(
            [PYTHON, "manage.py", "shell", "-c", names + COMMIT],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        samples: list[str] = []
        while shell.poll() is None:
            if sample:
                samples.append(" ".join(f"{resident_mib(p.pid):.0f}" for p in sample))
            time.sleep(1)
        output = shell.stdout.read() if shell.stdout else ""
        if "RESULT" not in output:
            raise RuntimeError(output + (shell.stderr.read() if shell.stderr else ""))
        parts = output.split("RESULT", 1)[1].split()
        assert parts[1] == "succeeded" and moved_completely(self.store, folder, objects), output
        return float(parts[0]), samples


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):.0f} ({min(values):.0f} to {max(values):.0f})"


def scale(runner: Runner, env: dict[str, str], args: argparse.Namespace, note: str, fixed: dict[str, int]) -> str:
    rows = []
    base = 0.0
    single: list[float] = []
    for count in args.workers:
        with workers(env, count, args.concurrency, args.slice_size) as started:
            meter = CpuMeter({"workers": [p.pid for p in started], **{k: [v] for k, v in fixed.items()}})
            rates = []
            for _ in range(args.runs):
                with meter.measure(args.objects):
                    rates.append(args.objects / runner.commit(args.objects)[0])
        base = base or statistics.median(rates)
        single = single or rates
        cpu = meter.per_object()
        rows.append(
            f"| {count} | {args.concurrency} | {spread(rates)} | {statistics.median(rates) / base:.2f} "
            f"| {cpu['workers']:.2f} | {cpu.get('store', 0):.2f} | {cpu.get('proxy', 0):.2f} |"
        )
        print(rows[-1], flush=True)
    saturation = [f"| {args.concurrency} | {spread(single)} | (the first row above) |"]
    for concurrency in args.saturation:
        with workers(env, 1, concurrency, args.slice_size) as started:
            meter = CpuMeter({"workers": [p.pid for p in started], **{k: [v] for k, v in fixed.items()}})
            rates = []
            for _ in range(args.saturation_runs):
                with meter.measure(args.objects):
                    rates.append(args.objects / runner.commit(args.objects)[0])
        cpu = meter.per_object()
        saturation.append(
            f"| {concurrency} | {spread(rates)} | {cpu['workers']:.2f} / {cpu.get('store', 0):.2f} "
            f"/ {cpu.get('proxy', 0):.2f} |"
        )
        print(saturation[-1], flush=True)
    load = Path("/proc/loadavg").read_text().split()[:3]
    return f"""
Measured {today()} on {machine()}; load average {" ".join(load)} at the end (other work shared the
machine); `make bench-commit-scale`. {args.objects:,} objects of 1 KiB committed by Celery workers (solo
pool, production settings, PostgreSQL, Redis) from one queue, against one `rclone serve s3` store
behind a {2 * args.one_way_ms:.0f} ms round trip. {note} Objects per second from the request to the
finished state: median of {args.runs} runs (minimum to maximum). Slices of {args.slice_size} objects
(`SPACEPORT_COMMIT_SLICE_SIZE`; 500 by default), so that the last slices of a commit are shared
out evenly at a low concurrency. CPU: milliseconds of CPU time per
object moved, of all worker processes together, of the store, and of the delaying proxy.

| worker processes | concurrency per worker | objects/s | speed-up over one | CPU ms/object: workers | store | proxy |
|---:|---:|---:|---:|---:|---:|---:|
{chr(10).join(rows)}

One worker at rising `SPACEPORT_COMMIT_CONCURRENCY` ({args.saturation_runs} run each; median,
minimum to maximum), where it saturates:

| concurrency | objects/s | CPU ms/object: worker / store / proxy |
|---:|---:|---:|
{chr(10).join(saturation)}
"""


def memory(runner: Runner, env: dict[str, str], args: argparse.Namespace) -> str:
    rows = []
    for count in (1, 2):
        with workers(env, count, 16) as started:
            idle = [resident_mib(p.pid) for p in started]
            seconds, samples = runner.commit(args.memory_objects, sample=started)
            after = [resident_mib(p.pid) for p in started]
        per_worker = list(zip(*[[float(v) for v in line.split()] for line in samples], strict=True))
        for number, series in enumerate(per_worker):
            tenth = max(1, len(series) // 10)
            rows.append(
                f"| {count} | {number + 1} | {idle[number]:.0f} | {statistics.mean(series[:tenth]):.0f} "
                f"| {statistics.mean(series[-tenth:]):.0f} | {max(series):.0f} | {after[number]:.0f} "
                f"| {args.memory_objects / seconds:.0f} |"
            )
            print(rows[-1], flush=True)
    load = Path("/proc/loadavg").read_text().split()[:3]
    return f"""
Measured {today()} on {machine()}; load average {" ".join(load)} at the end;
`bench/commit_scale.py --memory`. A commit of {args.memory_objects:,} objects of 1 KiB (written
straight into the folder `rclone serve s3` serves, no added latency), moved by one and by two
workers (solo pool, concurrency 16, slices of 500); resident memory (VmRSS) of each worker process
sampled every second: before the commit, averaged over the first and the last tenth of the
commit, the peak, and after it.

| workers | worker | idle MiB | first tenth MiB | last tenth MiB | peak MiB | after MiB | objects/s |
|---:|---:|---:|---:|---:|---:|---:|---:|
{chr(10).join(rows)}
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--objects", type=int, default=10_000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--concurrency", type=int, default=1, help="SPACEPORT_COMMIT_CONCURRENCY of every worker")
    parser.add_argument("--saturation", type=int, nargs="*", default=[2, 4, 8, 16])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--slice-size", type=int, default=250, help="SPACEPORT_COMMIT_SLICE_SIZE of every worker")
    parser.add_argument("--saturation-runs", type=int, default=1)
    parser.add_argument("--one-way-ms", type=float, default=5.0, help="half the added round trip")
    parser.add_argument("--memory", action="store_true", help="measure memory over a large commit instead")
    parser.add_argument("--memory-objects", type=int, default=100_000)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="spaceport-bench-scale-"))
    store = start_rclone_s3(workdir)
    (store.root / BUCKET).mkdir(exist_ok=True)
    if args.memory:
        runner = Runner(store, {}, 2, args.memory_objects)
    else:
        runs = args.runs * len(args.workers) + args.saturation_runs * len(args.saturation)
        runner = Runner(store, {}, runs, args.objects)
    issuer = Issuer()
    missing = "" if args.memory else netem_missing()
    one_way = 0.0 if args.memory else args.one_way_ms
    try:
        recreate_database(DATABASE)
        env = production_env(DATABASE, issuer, CELERY_TASK_DEFAULT_QUEUE=QUEUE)
        manage(env, "migrate", "--noinput", "-v", "0")
        with delayed(store, one_way) as (endpoint, proxy):
            manage(
                env,
                "shell",
                "-c",
                f"ENDPOINT={endpoint!r}\nKEY={store.key.access_key_id!r}\n"
                f"SECRET={store.key.secret_access_key!r}\n" + SETUP,
            )
            runner.env = env
            if args.memory:
                title, body = "Commit memory", memory(runner, env, args)
            else:
                refused = f"The kernel cannot delay packets here ({missing}), so the" if missing else "The"
                note = (
                    f"{refused} latency comes from a delaying TCP proxy on loopback "
                    "(`bench/delay_proxy.py`, half the round trip each way), which takes CPU of its own "
                    "on the same cores."
                )
                fixed = {"store": store.process.popen.pid, **({"proxy": proxy} if proxy else {})}
                title, body = "Commit scale-out", scale(runner, env, args, note, fixed)
    finally:
        store.process.stop()
        issuer.stop()
    print(body)
    if not args.no_write:
        write_section(ROOT / "docs" / "benchmarks.md", title, body)


if __name__ == "__main__":
    main()
