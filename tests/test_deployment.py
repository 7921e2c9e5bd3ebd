"""The production configuration: settings refuse to start unsafe, and docker-compose points at real code."""

from __future__ import annotations

import importlib
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from cryptography.fernet import Fernet

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
    assert {"postgres", "redis", "web", "worker", "beat"} <= set(services)
    for name in ("web", "worker", "beat", "migrate"):
        service = services[name]
        env = service["environment"]
        assert env["DATABASE_URL"].startswith("postgres://")
        assert env["REDIS_URL"].startswith("redis://redis:")
        assert env["DEBUG"] == "false"
        _command_target_exists(service["command"])
    assert services["web"]["command"][0] == "gunicorn"
    assert services["worker"]["command"][3] == "worker"
    assert services["beat"]["command"][3] == "beat"


def test_compose_environment_names_only_settings_that_exist(compose: dict[str, Any]) -> None:
    settings_source = (ROOT / "portal" / "settings.py").read_text()
    read = set(re.findall(r'env_[a-z_]+\("([A-Z_]+)"', settings_source))
    for name in compose["services"]["web"]["environment"]:
        assert name in read, f"{name} is set in docker-compose.yml but settings never read it"


def test_the_image_builds_from_files_that_exist() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    for source in re.findall(r"^COPY (\S+)", dockerfile, flags=re.MULTILINE):
        assert (ROOT / source).exists(), f"Dockerfile copies {source}, which does not exist"
