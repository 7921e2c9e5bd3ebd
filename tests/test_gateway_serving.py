"""Running the gateway: its access log, metrics, key usage in bulk, several processes on one port,
HTTPS, and the operations port (metrics, liveness, readiness) apart from the S3 port."""

from __future__ import annotations

import datetime
import io
import json
import logging
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
from botocore.config import Config

from accessgrants.models import AccessKey
from gateway.metrics import scrape
from spaceport.logfilters import JsonLines
from tests.certificates import self_signed
from tests.emulators import LOOPBACK, free_port
from tests.fixtures.worker import worker_database_url
from tests.gateway_live import LiveGateway, s3_for, start_gateway

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def live(settings: Any) -> Iterator[LiveGateway]:
    settings.SPACEPORT_S3_GATEWAY_USAGE_FLUSH_SECONDS = 3600  # written at shutdown only, in these tests
    gateway = start_gateway()
    yield gateway
    gateway.stop()


@pytest.fixture
def access_lines() -> Iterator[io.StringIO]:
    """The access log as the project's JSON formatter writes it."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonLines())
    logger = logging.getLogger("spaceport.gateway.access")
    logger.addHandler(handler)
    yield out
    logger.removeHandler(handler)


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus exposition text (0 when absent)."""
    total = 0.0
    for line in text.splitlines():
        match = re.match(r"^([a-zA-Z_:]+)(?:\{(.*)\})? (\S+)$", line)
        if not match or match[1] != name:
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', match[2] or ""))
        if all(found.get(k) == v for k, v in labels.items()):
            total += float(match[3])
    return total


def settled(read: Any, done: Any, seconds: float = 5.0) -> Any:
    """What `read` gives once `done` holds of it, or at the deadline: the gateway records a request's
    log line and metrics after the last byte of its answer is sent, so a fast client can look first."""
    deadline = time.monotonic() + seconds
    value = read()
    while not done(value) and time.monotonic() < deadline:
        time.sleep(0.02)
        value = read()
    return value


def test_one_json_access_line_per_request_without_a_secret_or_signature(
    live: LiveGateway, world: dict[str, Any], access_lines: io.StringIO
) -> None:
    issued = world["key"]
    s3 = s3_for(live.url, issued)
    s3.put_object(Bucket="acme-raw", Key="logged.txt", Body=b"12345")
    assert s3.get_object(Bucket="acme-raw", Key="logged.txt")["Body"].read() == b"12345"
    url = s3.generate_presigned_url("get_object", Params={"Bucket": "acme-raw", "Key": "logged.txt"}, ExpiresIn=60)
    assert requests.get(url, timeout=10).content == b"12345"
    refused = requests.put(
        f"{live.url}/acme-ref/x", data=b"x", headers={"Authorization": "AWS4-HMAC-SHA256 junk"}, timeout=10
    )
    assert refused.status_code in (400, 403)

    text = settled(access_lines.getvalue, lambda text: len(text.splitlines()) >= 4)
    lines = [json.loads(line) for line in text.splitlines()]
    assert len(lines) == 4
    put, get, presigned, anonymous = lines
    assert put["logger"] == "spaceport.gateway.access"
    assert {k: put[k] for k in ("access_key_id", "bucket", "operation", "method", "status", "bytes_in")} == {
        "access_key_id": issued.access_key,
        "bucket": "acme-raw",
        "operation": "PutObject",
        "method": "PUT",
        "status": 200,
        "bytes_in": 5,
    }
    assert (get["operation"], get["bytes_out"], presigned["bytes_out"]) == ("GetObject", 5, 5)
    assert put["remote"] == LOOPBACK and put["duration_ms"] > 0 and re.fullmatch(r"[0-9A-F]{16}", put["request_id"])
    assert anonymous["status"] == refused.status_code and anonymous["error_code"]

    signature = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)["X-Amz-Signature"][0]
    assert issued.secret_key not in text
    assert signature not in text and "X-Amz-" not in text and "AWS4-HMAC-SHA256" not in text


def test_metrics_count_requests_bytes_latency_and_decisions(live: LiveGateway, world: dict[str, Any]) -> None:
    before = scrape().decode()
    s3 = s3_for(live.url, world["key"])
    s3.put_object(Bucket="acme-raw", Key="m.bin", Body=b"m" * 1000)
    for _ in range(3):
        s3.get_object(Bucket="acme-raw", Key="m.bin")["Body"].read()
    after = settled(
        lambda: scrape().decode(),
        lambda text: (
            sample(text, "spaceport_gateway_requests_total", operation="GetObject", status="200")
            - sample(before, "spaceport_gateway_requests_total", operation="GetObject", status="200")
            >= 3
        ),
    )

    def moved(name: str, **labels: str) -> float:
        return sample(after, name, **labels) - sample(before, name, **labels)

    assert moved("spaceport_gateway_requests_total", operation="GetObject", status="200") == 3
    assert moved("spaceport_gateway_requests_total", operation="PutObject", status="200") == 1
    assert moved("spaceport_gateway_received_bytes_total", operation="PutObject") == 1000
    assert moved("spaceport_gateway_sent_bytes_total", operation="GetObject") == 3000
    assert moved("spaceport_gateway_request_duration_seconds_count", operation="GetObject") == 3
    assert moved("spaceport_gateway_decision_cache_total", result="hit") >= 2
    assert moved("spaceport_gateway_decision_cache_total", result="miss") >= 1


def test_key_use_is_counted_in_memory_and_written_in_bulk(live: LiveGateway, world: dict[str, Any]) -> None:
    issued = world["key"]
    s3 = s3_for(live.url, issued)
    for n in range(20):
        s3.put_object(Bucket="acme-raw", Key=f"u/{n}", Body=b"u")
    s3.list_objects_v2(Bucket="acme-raw", Prefix="u/")
    key = AccessKey.objects.get(pk=issued.key.pk)
    assert (key.request_count, key.last_used, live.usage.writes) == (0, None, 0), "a request wrote to the database"
    assert live.usage.counts == {issued.access_key: 21}

    started = datetime.datetime.now(datetime.UTC)
    live.stop()  # shutdown writes what is left, in one UPDATE
    key.refresh_from_db()
    assert key.request_count == 21 and live.usage.writes == 1
    assert key.last_used is not None and started - datetime.timedelta(minutes=1) < key.last_used <= started


def test_key_use_is_written_every_few_seconds(settings: Any, world: dict[str, Any]) -> None:
    settings.SPACEPORT_S3_GATEWAY_USAGE_FLUSH_SECONDS = 1
    live = start_gateway()
    try:
        s3 = s3_for(live.url, world["key"])
        for _ in range(10):
            s3.list_buckets()
        deadline = time.monotonic() + 5
        while AccessKey.objects.get(pk=world["key"].key.pk).request_count < 10:
            assert time.monotonic() < deadline, "the key's use was not written within a few seconds"
            time.sleep(0.2)
        assert 1 <= live.usage.writes <= 3
    finally:
        live.stop()


class Rungateway:
    """``manage.py rungateway`` as deployed, in a process of its own on this run's test database."""

    def __init__(self, tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> None:
        self.port, self.metrics_port = free_port(), free_port()
        self.log = tmp_path / "gateway.log"
        environment = {**os.environ, "DATABASE_URL": worker_database_url(), **(env or {})}
        environment.pop("DATABASE_TEST_NAME", None)
        argv = [sys.executable, "manage.py", "rungateway", "--host", LOOPBACK, "--port", str(self.port)]
        argv += ["--metrics-port", str(self.metrics_port), *args]
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(argv, cwd=ROOT, env=environment, stdout=out, stderr=subprocess.STDOUT)

    def operations(self, path: str) -> requests.Response:
        return requests.get(f"http://{LOOPBACK}:{self.metrics_port}{path}", timeout=10)

    def wait_until_serving(self, processes: int) -> None:
        deadline = time.monotonic() + 60
        while len(self.pids()) < processes or not self.answers():
            assert self.process.poll() is None, self.log.read_text()
            assert time.monotonic() < deadline, self.log.read_text()
            time.sleep(0.3)

    def answers(self) -> bool:
        try:
            return self.operations("/healthz").text == "ok"
        except requests.ConnectionError:
            return False

    def pids(self) -> set[int]:
        return {int(pid) for pid in re.findall(r"gateway serving on \S+ \(pid (\d+),", self.log.read_text())}

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/status").exists() and "zombie" not in Path(f"/proc/{pid}/status").read_text()


def test_several_processes_share_the_port_and_one_metrics_port_adds_them_up(
    tmp_path: Path, world: dict[str, Any]
) -> None:
    samples = Path(tempfile.gettempdir())
    before = set(samples.glob("spaceport-gateway-metrics-*"))
    served = Rungateway(tmp_path, "--processes", "2")
    try:
        served.wait_until_serving(2)
        pids = served.pids()
        assert len(pids) == 2 and served.process.pid not in pids
        made = set(samples.glob("spaceport-gateway-metrics-*")) - before
        assert len(made) == 1, "the parent makes one directory for the processes' samples"
        url = f"http://{LOOPBACK}:{served.port}"
        assert requests.get(f"{url}/metrics", timeout=10).status_code == 403  # a bucket there, not metrics
        for n in range(12):  # a client each, so a connection each, spread by the kernel
            s3_for(url, world["key"]).put_object(Bucket="acme-raw", Key=f"p/{n}", Body=b"p" * 10)
        # A request is counted once its answer has gone out, so the client may read it a moment before.
        deadline = time.monotonic() + 10
        while True:
            metrics = served.operations("/metrics").text
            counted = sample(metrics, "spaceport_gateway_requests_total", operation="PutObject", status="200")
            if counted >= 12 or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert counted == 12
        assert sample(metrics, "spaceport_gateway_received_bytes_total", operation="PutObject") == 120
        written = {path.name for path in made.pop().iterdir()}
        assert {f"counter_{pid}.db" for pid in pids} <= written, "both processes served and wrote samples"
        ready = served.operations("/readyz")
        assert ready.status_code == 200 and ready.json() == {"database": "ok", "redis": "ok"}
    finally:
        status = served.stop()
    assert status == 0, served.log.read_text()
    assert not [pid for pid in pids if alive(pid)]
    key = AccessKey.objects.get(pk=world["key"].key.pk)
    assert key.request_count == 12, "each process writes its keys' use when it stops"
    assert set(samples.glob("spaceport-gateway-metrics-*")) <= before, "the metrics directory was left behind"


def test_https_with_the_configured_certificate(tmp_path: Path, world: dict[str, Any]) -> None:
    cert, key = self_signed(tmp_path)
    env = {"SPACEPORT_S3_GATEWAY_TLS_CERT": str(cert), "SPACEPORT_S3_GATEWAY_TLS_KEY": str(key)}
    served = Rungateway(tmp_path, env=env)
    try:
        served.wait_until_serving(1)
        issued = world["key"]
        s3 = boto3.client(
            "s3",
            endpoint_url=f"https://{LOOPBACK}:{served.port}",
            aws_access_key_id=issued.access_key,
            aws_secret_access_key=issued.secret_key,
            region_name="us-east-1",
            verify=str(cert),
            config=Config(signature_version="s3v4", s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
        )
        s3.put_object(Bucket="acme-raw", Key="tls.txt", Body=b"over TLS")
        assert s3.get_object(Bucket="acme-raw", Key="tls.txt")["Body"].read() == b"over TLS"
        with pytest.raises(requests.ConnectionError):
            requests.get(f"http://{LOOPBACK}:{served.port}/healthz", timeout=5)
    finally:
        assert served.stop() == 0
