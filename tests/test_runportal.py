"""``make run``'s command: web, worker and beat on SQLite and the embedded broker, stopped by Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.emulators import free_port

ROOT = Path(__file__).resolve().parent.parent


def local_env(var_dir: Path) -> dict[str, str]:
    """No database or broker settings at all, as on a fresh machine."""
    keep = ("PATH", "HOME", "LANG")
    env = {k: v for k, v in os.environ.items() if k in keep}
    env["SPACEPORT_VAR_DIR"] = str(var_dir)
    return env


def test_runportal_serves_pages_runs_tasks_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    port = free_port()
    env = local_env(tmp_path / "var")
    log = (tmp_path / "runportal.log").open("wb")
    portal = subprocess.Popen(
        [sys.executable, "manage.py", "runportal", "--addr", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 90
        status = 0
        while time.monotonic() < deadline and status != 200:
            assert portal.poll() is None, (tmp_path / "runportal.log").read_text()
            try:
                status = urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/", timeout=2).status
            except OSError:
                time.sleep(0.5)
        assert status == 200
        printed = (tmp_path / "runportal.log").read_text()
        assert "Platform admin: admin@spaceport.local  password: " in printed

        task = subprocess.run(
            [
                sys.executable,
                "manage.py",
                "shell",
                "-c",
                "from portal.tasks import purge_expired_api_tokens as t; print('purged', t.delay().get(timeout=60))",
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=90,
        )
        assert "purged 0" in task.stdout, task.stderr + (tmp_path / "runportal.log").read_text()[-3000:]
    finally:
        portal.send_signal(signal.SIGINT)
        try:
            portal.wait(timeout=30)
        finally:
            if portal.poll() is None:
                portal.kill()
    printed = (tmp_path / "runportal.log").read_text()
    assert "Spaceport stopped." in printed
    assert "exited with status" not in printed
    assert " ERROR" not in printed and "ERROR/" not in printed, printed[-3000:]
    assert "/MainProcess]" not in printed, "Celery logs through the portal's handler only, so nothing is printed twice"
    leftovers = subprocess.run(["pgrep", "-f", f"runserver 127.0.0.1:{port}"], capture_output=True, text=True)
    assert leftovers.stdout.strip() == ""
