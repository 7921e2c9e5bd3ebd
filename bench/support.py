"""Shared pieces for the benchmarks: a production-like environment, an OIDC issuer, wrk runs."""

from __future__ import annotations

import base64
import json
import os
import platform
import re
import secrets
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jwt
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives.asymmetric import rsa

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {kib / 1024 / 1024:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    system = f"{platform.system()} {platform.release()}, Python {platform.python_version()}"
    return f"{os.cpu_count()} cores ({cpu}){memory}, {system}"


def today() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")


class Issuer:
    """A minimal OpenID Connect issuer: discovery and JWKS over HTTP, tokens signed with its RSA key."""

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = secrets.token_hex(8)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        numbers = self.key.public_key().public_numbers()

        def b64(value: int) -> str:
            raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
            return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

        jwks = {
            "keys": [
                {"kty": "RSA", "kid": self.kid, "use": "sig", "alg": "RS256", "n": b64(numbers.n), "e": b64(numbers.e)}
            ]
        }
        discovery = {"issuer": self.url, "jwks_uri": f"{self.url}/jwks"}
        pages = {"/.well-known/openid-configuration": discovery, "/jwks": jwks}

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = json.dumps(pages.get(self.path, {})).encode()
                self.send_response(200 if self.path in pages else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def token(self, subject: str, roles: list[str], audience: str) -> str:
        now = int(time.time())
        claims = {
            "iss": self.url,
            "sub": subject,
            "aud": audience,
            "azp": audience,
            "iat": now,
            "exp": now + 3 * 3600,
            "email": f"{subject}@bench.example.com",
            "preferred_username": subject,
            "realm_access": {"roles": roles},
        }
        return jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": self.kid})

    def stop(self) -> None:
        self.server.shutdown()


def production_env(database: str, issuer: Issuer, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k in ("PATH", "HOME", "LANG", "GUNICORN_CMD_ARGS", "WEB_CONCURRENCY", "GUNICORN_THREADS")
    }
    env.update(
        {
            "DEBUG": "false",
            "SECRET_KEY": secrets.token_urlsafe(64),
            "SPACEPORT_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{database}",
            "REDIS_URL": "redis://127.0.0.1:6379/7",
            "SECURE_SSL_REDIRECT": "false",
            "OIDC_ISSUER": issuer.url,
            "OIDC_CLIENT_ID": "spaceport",
            "OIDC_AUDIENCE": "spaceport",
            "LOG_LEVEL": "WARNING",
            "SPACEPORT_CREDENTIAL_RATE_LIMIT_PER_MINUTE": "100000000",
            # The emulators and stores the benchmarks start listen on loopback.
            "SPACEPORT_ALLOWED_PRIVATE_NETWORKS": "127.0.0.0/8,::1/128",
        }
    )
    env.update(extra)
    return env


def recreate_database(name: str) -> None:
    for sql in (f"DROP DATABASE IF EXISTS {name} WITH (FORCE)", f"CREATE DATABASE {name}"):
        subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-q", "-c", sql], check=True)


def manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [PYTHON, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )
    if result.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


@dataclass(frozen=True)
class Server:
    """A running gunicorn: where it listens, and its master process (the workers are its children)."""

    url: str
    pid: int

    def workers(self) -> list[int]:
        children = Path(f"/proc/{self.pid}/task/{self.pid}/children").read_text().split()
        return [int(child) for child in children]


def wait_until_healthy(url: str, process: subprocess.Popen[bytes], log_path: Path, seconds: float = 60) -> None:
    """Wait for ``url/healthz`` to answer; the server's log tail is the error if it exits or never does."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            urllib.request.urlopen(f"{url}/healthz", timeout=2)
            return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(log_path.read_text()[-3000:]) from None
            time.sleep(0.3)


def cpu_seconds(pid: int) -> float:
    """User and system CPU time a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy_seconds() -> float:
    """Core-seconds every CPU of the machine has spent busy since boot (not idle, not waiting for IO)."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    return (sum(fields) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


def wait_until_idle(pids: list[int], seconds: float = 120) -> None:
    """Until the processes have started up (imports, Django's checks) and use almost no CPU: a
    worker's start-up is not a commit's cost, and on a busy machine it can last longer than a fixed pause."""
    deadline = time.monotonic() + seconds
    time.sleep(3)
    while time.monotonic() < deadline:
        before = sum(cpu_seconds(pid) for pid in pids)
        time.sleep(1)
        if sum(cpu_seconds(pid) for pid in pids) - before < 0.05 * len(pids):
            return


@contextmanager
def gunicorn(env: dict[str, str], workers: int | None = None, name: str = "gunicorn") -> Iterator[Server]:
    """gunicorn as the product ships it (``spaceport/gunicorn_config.py``); ``workers`` overrides its count."""
    port = free_port()
    log_path = ROOT / "var" / f"bench-{name}.log"
    log = open(log_path, "wb")  # noqa: SIM115
    command = [PYTHON, "-m", "gunicorn", "spaceport.wsgi:application", "-b", f"127.0.0.1:{port}"]
    command += ["-c", "python:spaceport.gunicorn_config"] + (["-w", str(workers)] if workers else [])
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(url, process, log_path)
        yield Server(url, process.pid)
    finally:
        process.terminate()
        try:
            process.wait(timeout=45)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        log.close()


def resident_mib(pid: int) -> float:
    """A process's resident memory (VmRSS) in MiB, or 0 once it has gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


@contextmanager
def celery_processes(
    env: dict[str, str], argvs: list[list[str]], name: str, ready: str | None = " ready."
) -> Iterator[list[subprocess.Popen[bytes]]]:
    """Celery processes (workers, beat) started from ``argvs``, each logging to ``var/bench-<name>-<n>.log``.

    Yields once every log shows ``ready`` (a worker's "ready.", beat's "beat: Starting..."), so
    their start-up is not part of what is measured; they are stopped and waited for at the end.
    Those lines are logged at INFO, so the processes log at INFO whatever ``env`` says.
    With ``ready=None`` it yields once they are idle instead (``wait_until_idle``) and leaves the
    log level to ``env``: a timed commit wants workers whose whole start-up is over, not merely
    consuming, and none of the cost of logging at INFO.
    """
    if ready is not None:
        env = {**env, "LOG_LEVEL": "INFO"}
    started: list[subprocess.Popen[bytes]] = []
    paths = [ROOT / "var" / f"bench-{name}-{number}.log" for number in range(len(argvs))]
    try:
        for argv, path in zip(argvs, paths, strict=True):
            with path.open("wb") as log:
                started.append(subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT))

        def exited() -> list[Path]:
            return [path for process, path in zip(started, paths, strict=True) if process.poll() is not None]

        if ready is None:
            wait_until_idle([process.pid for process in started])
            if exited():
                raise RuntimeError(exited()[0].read_text(errors="replace")[-3000:])
        deadline = time.monotonic() + 180
        while ready is not None and not all(ready in path.read_text(errors="replace") for path in paths):
            gone = exited()
            if gone or time.monotonic() > deadline:
                raise RuntimeError((gone or paths)[0].read_text(errors="replace")[-3000:])
            time.sleep(0.3)
        yield started
    finally:
        stop_all(started)


def stop_all(processes: list[subprocess.Popen[bytes]], timeout: float = 60) -> None:
    """Ask every process to stop at once, then wait for each: they shut down side by side."""
    for process in processes:
        process.terminate()
    for process in processes:
        process.wait(timeout=timeout)


@dataclass
class WrkResult:
    connections: int
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int
    non_2xx: int


def _millis(text: str) -> float:
    value, unit = re.match(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def wrk(url: str, headers: dict[str, str], connections: int, seconds: int, method: str = "POST") -> WrkResult:
    script = ROOT / "var" / f"bench-wrk-{method.lower()}.lua"
    header_lines = "".join(f'wrk.headers["{k}"] = "{v}"\n' for k, v in headers.items())
    script.write_text(f'wrk.method = "{method}"\n{header_lines}')
    threads = min(2, connections)
    result = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script), url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return parse_wrk(result, connections)


def parse_wrk(output: str, connections: int) -> WrkResult:
    """The figures of a ``wrk --latency`` report."""
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    p50 = _millis(re.search(r"^\s+50%\s+(\S+)", output, re.MULTILINE).group(1))  # type: ignore[union-attr]
    p99 = _millis(re.search(r"^\s+99%\s+(\S+)", output, re.MULTILINE).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return WrkResult(
        connections,
        rps,
        p50,
        p99,
        sum(int(g) for g in errors.groups()) if errors else 0,
        int(non_2xx.group(1)) if non_2xx else 0,
    )


def write_section(path: Path, title: str, body: str) -> None:
    """Replace (or add) the ``## title`` section of the benchmarks document."""
    text = path.read_text() if path.exists() else "# Benchmarks\n\nFigures measured by `bench/`; see bench/README.md.\n"
    pattern = re.compile(rf"^## {re.escape(title)}\n.*?(?=^## |\Z)", re.MULTILINE | re.DOTALL)
    section = f"## {title}\n\n{body.strip()}\n\n"
    text = pattern.sub(section, text) if pattern.search(text) else text.rstrip() + "\n\n" + section
    path.write_text(text)
