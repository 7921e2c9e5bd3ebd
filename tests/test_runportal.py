"""The README's quick start, exactly: ``make run``'s command on a fresh machine.

``python manage.py runportal`` with no database or broker settings at all (SQLite and the embedded
filesystem broker) in an empty var directory: it prints the demo login, a person signs in with it
in Chromium and opens the first pages, tasks run on the worker, beat comes up, the S3 gateway
answers, and Ctrl-C stops web, worker, beat and the gateway.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Page, Response, expect

from tests.emulators import free_port
from tests.fixtures.browser import BrowserWatch, chromium_page

ROOT = Path(__file__).resolve().parent.parent
LOGIN = re.compile(r"Platform admin: (?P<email>\S+)  password: (?P<password>\S+)")
WORKER_READY = re.compile(r"celery@\S+ ready\.")
BEAT_STARTED = "beat: Starting..."


def local_env(var_dir: Path) -> dict[str, str]:
    """No database or broker settings at all, as on a fresh machine."""
    keep = ("PATH", "HOME", "LANG")
    env = {k: v for k, v in os.environ.items() if k in keep}
    env["SPACEPORT_VAR_DIR"] = str(var_dir)
    return env


@dataclass
class RunningPortal:
    process: subprocess.Popen[bytes]
    url: str
    port: int
    env: dict[str, str]
    log: Path
    gateway_url: str
    operations_url: str

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for(self, what: str, condition: re.Pattern[str] | str, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"runportal exited:\n{self.output()[-4000:]}"
            found = condition.search(self.output()) if isinstance(condition, re.Pattern) else condition in self.output()
            if found:
                return
            time.sleep(0.5)
        pytest.fail(f"timed out waiting for {what}:\n{self.output()[-4000:]}")

    def stop(self) -> None:
        """Ctrl-C, as a person at the terminal would."""
        if self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=30)
        finally:
            if self.process.poll() is None:
                self.process.kill()


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningPortal]:
    """``runportal`` in a fresh var directory on a free port, answering its sign-in page."""
    home = tmp_path_factory.mktemp("quick-start")
    port = free_port()
    gateway_port = free_port()
    operations_port = free_port()
    log = home / "runportal.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "manage.py",
                "runportal",
                "--addr",
                f"127.0.0.1:{port}",
                "--gateway-addr",
                f"127.0.0.1:{gateway_port}",
                "--gateway-metrics-port",
                str(operations_port),
            ],
            cwd=ROOT,
            env=local_env(home / "var"),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    running = RunningPortal(
        process,
        f"http://127.0.0.1:{port}",
        port,
        local_env(home / "var"),
        log,
        f"http://127.0.0.1:{gateway_port}",
        f"http://127.0.0.1:{operations_port}",
    )
    try:
        deadline = time.monotonic() + 120
        status = 0
        while time.monotonic() < deadline and status != 200:
            assert process.poll() is None, running.output()
            try:
                status = urllib.request.urlopen(f"{running.url}/accounts/login/", timeout=2).status
            except OSError:
                time.sleep(0.5)
        assert status == 200, running.output()
        yield running
    finally:
        running.stop()


def test_the_printed_login_opens_every_first_page_in_chromium(portal: RunningPortal, tmp_path: Path) -> None:
    login = LOGIN.search(portal.output())
    assert login, portal.output()
    assert Path(portal.env["SPACEPORT_VAR_DIR"], "demo-login.txt").read_text().strip() == login["password"]

    watch = BrowserWatch(origin=portal.url)
    with chromium_page(watch) as page:
        failures: list[str] = []

        def note_server_error(response: Response) -> None:
            if response.status >= 500:
                failures.append(f"{response.status} {response.url}")

        page.on("response", note_server_error)
        page.goto(f"{portal.url}/")
        expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/$"))
        page.fill("#id_login", login["email"])
        page.fill("#id_password", login["password"])
        page.get_by_role("button", name="Sign in", exact=True).click()

        expect(page).to_have_url(f"{portal.url}/")
        see_no_error(page, tmp_path / "dashboard.png")
        page.get_by_role("link", name="New organization").click()
        expect(page).to_have_url(f"{portal.url}/o/new/")
        see_no_error(page, tmp_path / "organization-new.png")
        page.go_back()
        page.get_by_role("link", name="Demo Organization").first.click()

        expect(page).to_have_url(f"{portal.url}/o/demo/")
        see_no_error(page, tmp_path / "organization.png")
        page.get_by_role("link", name="raw-data").first.click()

        expect(page).to_have_url(f"{portal.url}/o/demo/s/raw-data/")
        see_no_error(page, tmp_path / "space.png")
        page.go_back()
        page.get_by_role("link", name="Connect storage").click()

        expect(page).to_have_url(f"{portal.url}/o/demo/connections/new/")
        see_no_error(page, tmp_path / "wizard-cloud.png")
        page.locator('a.choice-card[data-provider="aws"]').click()
        expect(page).to_have_url(f"{portal.url}/o/demo/connections/new/aws/")
        see_no_error(page, tmp_path / "wizard-method.png")
        page.locator("form.method-card").first.get_by_role("button").click()
        expect(page).to_have_url(re.compile(r"/o/demo/connections/[^/]+/setup/$"))
        see_no_error(page, tmp_path / "wizard-setup.png")

        page.goto(f"{portal.url}/api/docs/")
        # The schema is generated on request, which takes a few seconds on a busy machine.
        expect(page.locator(".swagger-ui .info .title")).to_contain_text("Spaceport", timeout=60_000)
        expect(page.locator(".swagger-ui .opblock").first).to_be_visible()
        see_no_error(page, tmp_path / "api-docs.png", main=False)

        assert failures == [], failures
    watch.assert_nothing_refused()
    server_errors = [line for line in portal.output().splitlines() if re.search(r'" 5\d\d \d+$', line)]
    assert server_errors == []
    assert "Traceback" not in portal.output()


def see_no_error(page: Page, screenshot: Path, *, main: bool = True) -> None:
    """The page is not one of Spaceport's error pages, and its picture is kept for review."""
    page.wait_for_load_state("networkidle")
    page.screenshot(path=screenshot, full_page=True)
    assert page.locator(".error-code").count() == 0, page.url
    assert "Something went wrong" not in page.title()
    if main:
        expect(page.locator("main")).to_be_visible()


def test_the_worker_runs_tasks_and_beat_runs_its_schedule(portal: RunningPortal) -> None:
    portal.wait_for("the worker", WORKER_READY)
    portal.wait_for("beat", BEAT_STARTED)
    task = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "shell",
            "-c",
            "from portal.tasks import purge_expired_api_tokens as t; print('purged', t.delay().get(timeout=60))",
        ],
        cwd=ROOT,
        env=portal.env,
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert "purged 0" in task.stdout, task.stderr + portal.output()[-3000:]
    # Beat sends its first scheduled task within seconds (the audit journal is copied every 5).
    portal.wait_for("a task sent by beat", re.compile(r"Scheduler: Sending due task"), timeout=60)


def test_the_gateway_answers_its_health_check(portal: RunningPortal) -> None:
    """On the S3 port, and on the operations port given to it (beside its metrics)."""
    for url in (f"{portal.gateway_url}/healthz", f"{portal.operations_url}/healthz"):
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(url, timeout=2) as answer:
                    assert answer.read() == b"ok"
                    break
            except OSError:
                assert time.monotonic() < deadline, portal.output()[-3000:]
                time.sleep(0.5)


def test_ctrl_c_stops_web_worker_and_beat(portal: RunningPortal) -> None:
    started = children_of(portal.process.pid)
    assert len(started) == 4, "web, worker, beat and the gateway"
    portal.stop()
    printed = portal.output()
    assert portal.process.returncode == 0, printed[-3000:]
    assert "Spaceport stopped." in printed
    assert "exited with status" not in printed
    assert " ERROR " not in printed and "ERROR/" not in printed, "stopping quietly: " + printed[-3000:]
    assert "/MainProcess]" not in printed, "Celery logs through the portal's handler only, so nothing is printed twice"
    assert "No hostname was supplied" not in printed, "the embedded broker's URL names its host"
    assert [pid for pid in started if Path(f"/proc/{pid}").exists()] == []


def children_of(pid: int) -> list[int]:
    listed = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True)
    return [int(child) for child in listed.stdout.split()]
