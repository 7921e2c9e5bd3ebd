"""The production configuration: settings refuse to start unsafe, docker-compose points at real code,
and the image builds and answers."""

from __future__ import annotations

import importlib
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import requests
import yaml
from cryptography.fernet import Fernet

from spaceport.queues import queue_names
from tests.emulators import answers_http, free_port
from tests.image_build import BuiltImage, built_image, unavailable_reason

ROOT = Path(__file__).resolve().parent.parent


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith(("SECRET_KEY", "SPACEPORT_ENC", "DEBUG"))
    }
    environment.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120
    )


def production_env(**overrides: str) -> dict[str, str]:
    env = {
        "DEBUG": "false",
        "SECRET_KEY": Fernet.generate_key().decode() + Fernet.generate_key().decode(),
        "SPACEPORT_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "ALLOWED_HOSTS": "spaceport.example.com",
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/postgres",
        "REDIS_URL": "redis://127.0.0.1:6379/0",
    }
    env.update(overrides)
    return env


def test_check_deploy_passes_with_a_production_environment() -> None:
    result = _manage("check", "--deploy", "--fail-level", "WARNING", **production_env())
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"SECRET_KEY": ""}, "SECRET_KEY"),
        ({"SECRET_KEY": "spaceport-development-only-secret-key-do-not-use-in-production"}, "SECRET_KEY"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY"),
        ({"SPACEPORT_ENCRYPTION_KEYS": ""}, "SPACEPORT_ENCRYPTION_KEYS"),
        ({"SPACEPORT_ENCRYPTION_KEYS": "ZGV2ZWxvcG1lbnQtb25seS1rZXktMzItYnl0ZXMhISE="}, "SPACEPORT_ENCRYPTION_KEYS"),
        ({"DEBUG": "maybe"}, "DEBUG"),
    ],
)
def test_production_refuses_to_start_on_a_missing_or_default_secret(overrides: dict[str, str], named: str) -> None:
    result = _manage("check", **production_env(**overrides))
    assert result.returncode != 0
    assert named in result.stderr
    if overrides.get("SECRET_KEY"):
        assert overrides["SECRET_KEY"] not in result.stderr


def test_secrets_can_come_from_files(tmp_path: Path) -> None:
    secret_file = tmp_path / "secret_key"
    secret_file.write_text(Fernet.generate_key().decode() * 2 + "\n")
    env = production_env(SECRET_KEY="", SECRET_KEY_FILE=str(secret_file))
    result = _manage("check", "--deploy", "--fail-level", "WARNING", **env)
    assert result.returncode == 0, result.stdout + result.stderr


def test_development_needs_no_environment_at_all(tmp_path: Path) -> None:
    bare = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "SPACEPORT_VAR_DIR": str(tmp_path / "var")}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=bare, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr


# --- docker-compose.yml ---


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def _command_target_exists(command: list[str]) -> None:
    """Each command names a program and a target inside the project; both must exist."""
    program = command[0]
    if program == "gunicorn":
        module, _, attribute = command[1].partition(":")
        assert hasattr(importlib.import_module(module), attribute or "application")
    elif program == "celery":
        assert command[1] == "-A"
        app_module = importlib.import_module(f"{command[2]}.celery")
        assert app_module.app.main == "spaceport"
        assert command[3] in {"worker", "beat"}
    elif program == "python":
        assert (ROOT / command[1]).is_file()
        from django.core.management import get_commands

        assert command[2] in get_commands()
    else:
        pytest.fail(f"unexpected program {program!r}")


def test_compose_runs_every_process_on_postgres_and_redis(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert {"postgres", "redis", "web", "worker", "beat", "gateway"} <= set(services)
    for name in ("web", "worker", "beat", "gateway", "migrate"):
        service = services[name]
        env = service["environment"]
        assert env["DATABASE_URL"].startswith("postgres://")
        assert env["REDIS_URL"].startswith("redis://redis:")
        assert env["DEBUG"] == "false"
        _command_target_exists(service["command"])
    assert services["web"]["command"][0] == "gunicorn"
    assert services["worker"]["command"][3] == "worker"
    assert services["beat"]["command"][3] == "beat"
    assert services["gateway"]["command"][2] == "rungateway"


def test_compose_gives_every_queue_a_worker_of_its_own(compose: dict[str, Any]) -> None:
    consumed: list[str] = []
    for service in compose["services"].values():
        command = service.get("command") or []
        if command[:4] == ["celery", "-A", "spaceport", "worker"]:
            assert "-Q" in command, "each worker names its queue"
            consumed.append(command[command.index("-Q") + 1])
    assert sorted(consumed) == sorted(queue_names("spaceport"))


def test_compose_environment_names_only_settings_that_exist(compose: dict[str, Any]) -> None:
    settings_source = (ROOT / "spaceport" / "settings.py").read_text()
    read = set(re.findall(r'env_[a-z_]+\("([A-Z_]+)"', settings_source))
    for name in compose["services"]["web"]["environment"]:
        assert name in read, f"{name} is set in docker-compose.yml but settings never read it"


# --- the image ---


@pytest.fixture(scope="module")
def image() -> Iterator[BuiltImage]:
    reason = unavailable_reason()
    if reason is not None:
        pytest.skip(f"the image cannot be built on this machine: {reason}")
    with built_image() as built:
        yield built


@pytest.fixture
def image_database() -> Iterator[str]:
    """A database of its own on the machine's PostgreSQL, which the container reaches over loopback
    (chroot isolation shares the machine's network)."""
    name = f"spaceport_image_{os.getpid()}"
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgres://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _answer(port: int, path: str) -> requests.Response:
    """What a TLS-terminating proxy in front of the container would pass on."""
    return requests.get(
        f"http://127.0.0.1:{port}{path}",
        headers={"Host": "spaceport.example.com", "X-Forwarded-Proto": "https"},
        allow_redirects=False,
        timeout=10,
    )


def test_the_image_builds_migrates_passes_deploy_checks_and_answers(
    image: BuiltImage, image_database: str, tmp_path: Path
) -> None:
    """The Dockerfile as it is, built with buildah on a Debian base, runs the way docker-compose.yml
    runs it: migrate, then gunicorn as the image's own user, serving pages and hashed static files,
    and ready (database, Redis and broker reached from inside the image); the Celery app that the
    worker and beat start from loads with Redis as its broker.

    Measured on the 2-core test machine with a load average near 10 from other runs: 16.5 minutes
    cold (debootstrap about 6, the dependency stage about 4), 3 to 5 minutes warm, where ``vfs``
    copying and deleting the whole root file system for the build container, the commit, the test's
    container and their removal is nearly all of it; a changed dependency list adds about 4 minutes.
    """
    env = production_env(DATABASE_URL=image_database, CELERY_TASK_DEFAULT_QUEUE=f"spaceport-image-{os.getpid()}")

    migrated = image.run("python", "manage.py", "migrate", "--noinput", env=env)
    assert migrated.returncode == 0, migrated.stdout + migrated.stderr
    checked = image.run("python", "manage.py", "check", "--deploy", "--fail-level", "WARNING", env=env)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    whoami = image.run("id", "-un", env=env)
    assert whoami.stdout.strip() == "spaceport"
    celery = image.run("celery", "-A", "spaceport", "report", env=env)
    assert celery.returncode == 0, celery.stderr[-3000:]
    assert "transport:redis" in celery.stdout, "the worker and beat would not use Redis as their broker"

    port = free_port()
    log = tmp_path / "gunicorn.log"
    with log.open("wb") as output:
        gunicorn = subprocess.Popen(
            image.run_argv(
                "gunicorn", "spaceport.wsgi:application", "--bind", f"127.0.0.1:{port}", "--workers", "1", env=env
            ),
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 120
        while not answers_http(port, "/accounts/login/"):
            assert gunicorn.poll() is None, f"gunicorn stopped:\n{log.read_text(errors='replace')[-3000:]}"
            assert time.monotonic() < deadline, f"gunicorn did not answer:\n{log.read_text(errors='replace')[-3000:]}"
            time.sleep(0.5)
        sign_in = _answer(port, "/accounts/login/")
        assert sign_in.status_code == 200, sign_in.text[-2000:]
        stylesheet = re.search(r'href="(/static/spaceport\.[0-9a-f]{12}\.css)"', sign_in.text)
        assert stylesheet, "the page does not name the collected, hashed stylesheet"
        assert _answer(port, stylesheet.group(1)).status_code == 200
        ready = _answer(port, "/readyz")
        assert ready.status_code == 200, ready.text
        assert set(ready.json()["checks"].values()) == {"ok"}
    finally:
        os.killpg(gunicorn.pid, signal.SIGTERM)
        try:
            gunicorn.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(gunicorn.pid, signal.SIGKILL)
            gunicorn.wait(timeout=10)
    assert not answers_http(port, "/accounts/login/"), "gunicorn kept running after the test stopped it"
