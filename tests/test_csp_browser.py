"""The Content-Security-Policy in a real browser, with the network cut off.

The ``page`` fixture (tests/fixtures/browser.py) aborts every request that is not to the portal
and fails the test on any request it had to abort or anything the policy refused; these tests
walk the pages that are not walked elsewhere (the htmx wizard and the credentials card have their
own browser tests, which run under the same watch). The first test proves the watch sees a
refusal, so a quiet run means the pages are clean, not that nobody was listening.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django_celery_beat.models import CrontabSchedule
from playwright.sync_api import Page, expect

from commits.models import Commit, CommitState
from connections import lifecycle
from connections.models import CloudConnection, Status
from portal.tenancy.changes import create_organization, create_space
from portal.tenancy.grants import Grant, Role, Scope
from tests.conftest import PASSWORD, make_user
from tests.connection_inputs import VALID_INPUTS
from tests.fixtures.browser import SCREENSHOTS, BrowserWatch

pytestmark = pytest.mark.browser

POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
    "base-uri 'self'; frame-ancestors 'none'; form-action 'self'"
)


@pytest.fixture
def world(transactional_db: None) -> dict[str, Any]:
    """Acme with a space, storage, a commit and a member; a platform admin for the admin site."""
    owner = make_user("owner@example.com")
    member = make_user("member@example.com")
    make_user("root@example.com", superuser=True)
    acme = create_organization(name="acme", display_name="Acme Research", owner=owner)
    raw = create_space(acme, name="raw", display_name="Raw measurements", description="Instrument output.")
    Grant.objects.create(user=member, scope=Scope.ORGANIZATION, role=Role.ACCESS, organization=acme)
    Grant.objects.create(user=member, scope=Scope.SPACE, role=Role.SUPPLIER, organization=acme, space=raw)
    connection = lifecycle.create_connection(
        acme,
        name="store",
        method="aws_cross_account_role",
        values=VALID_INPUTS["aws_cross_account_role"],
        validate=False,
    )
    CloudConnection.objects.filter(pk=connection.pk).update(status=Status.VALID)
    commit = Commit.objects.create(
        organization=acme, space=raw, root_dir="batch-1", user=member, state=CommitState.RUNNING
    )
    return {"owner": owner, "acme": acme, "raw": raw, "commit": commit}


def sign_in(page: Page, live_server: Any, email: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_login", email)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page).not_to_have_url(re.compile(r"/accounts/login/"))


def visit(page: Page, url: str) -> None:
    """Open ``url`` and check it came with the policy; the fixture checks nothing was refused."""
    response = page.goto(url)
    assert response is not None
    assert response.status == 200, f"{url} answered {response.status}"
    assert response.headers.get("content-security-policy") == POLICY, url
    page.wait_for_load_state("networkidle")


def test_the_watch_sees_what_the_policy_refuses(page: Page, live_server: Any, browser_watch: BrowserWatch) -> None:
    visit(page, f"{live_server.url}/accounts/login/")
    page.evaluate(
        """() => {
          document.body.insertAdjacentHTML("beforeend", '<p style="color: red">inline style</p>');
          const script = document.createElement("script");
          script.textContent = "window.inlineRan = true";
          document.body.appendChild(script);
        }"""
    )
    page.evaluate("() => fetch('https://cdn.example.com/lib.js', {mode: 'no-cors'}).catch(() => null)")
    expect(page.locator("body")).to_contain_text("inline style")
    page.wait_for_timeout(200)
    assert page.evaluate("window.inlineRan") is None, "an inline script ran"
    assert any("style-src" in violation for violation in browser_watch.csp_violations), browser_watch.csp_violations
    assert any("script-src" in violation for violation in browser_watch.csp_violations), browser_watch.csp_violations
    assert any("connect-src" in violation for violation in browser_watch.csp_violations), browser_watch.csp_violations
    # What the watch saw is what this test is about; the fixture's own check is for the other tests.
    browser_watch.reset()


def test_swagger_ui_lists_the_operations_offline(page: Page, live_server: Any, world: dict[str, Any]) -> None:
    sign_in(page, live_server, "member@example.com")
    visit(page, f"{live_server.url}/api/docs/")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Spaceport API")
    operations = page.locator(".opblock")
    expect(operations.first).to_be_visible()
    assert operations.count() > 30
    expect(page.locator(".opblock-summary-path", has_text="/api/v1/organizations/").first).to_be_visible()
    page.screenshot(path=SCREENSHOTS / "api-docs.png")
    operation = page.locator(".opblock-get", has_text="/api/v1/me/").first
    operation.locator(".opblock-summary-control").click()
    operation.get_by_role("button", name="Try it out").click()
    operation.get_by_role("button", name="Execute").click()
    expect(operation.locator(".live-responses-table tbody .response-col_status").first).to_have_text("200")


MEMBER_PAGES = [
    "/",
    "/o/acme/",
    "/o/acme/s/raw/",
    "/accounts/email/",
    "/accounts/password/change/",
    "/accounts/2fa/",
    "/accounts/2fa/totp/activate/",
    "/account/tokens/",
]
OWNER_PAGES = [
    "/o/acme/connections/",
    "/o/acme/connections/new/",
    "/o/acme/connections/new/aws/",
    "/o/acme/connections/store/",
    "/o/acme/connections/store/setup/",
    "/o/acme/connections/store/details/",
    "/o/acme/connections/store/disable/",
]
ADMIN_PAGES = [
    "/o/new/",
    "/admin/",
    "/admin/portal/organization/",
    "/admin/portal/space/",
    "/admin/accessgrants/grant/",
    "/admin/accessgrants/grant/add/",
    "/admin/connections/cloudconnection/",
    "/admin/commits/commit/",
    "/admin/portal/auditevent/",
]
SIGNED_OUT_PAGES = ["/accounts/login/", "/accounts/signup/", "/accounts/password/reset/", "/admin/login/"]


def test_every_main_page_loads_under_the_policy(page: Page, live_server: Any, world: dict[str, Any]) -> None:
    for path in SIGNED_OUT_PAGES:
        visit(page, f"{live_server.url}{path}")
    sign_in(page, live_server, "member@example.com")
    for path in MEMBER_PAGES:
        visit(page, f"{live_server.url}{path}")
    page.context.clear_cookies()
    sign_in(page, live_server, "owner@example.com")
    for path in OWNER_PAGES:
        visit(page, f"{live_server.url}{path}")
    page.context.clear_cookies()
    sign_in(page, live_server, "root@example.com")
    for path in ADMIN_PAGES:
        visit(page, f"{live_server.url}{path}")
    visit(page, f"{live_server.url}/admin/portal/organization/{world['acme'].pk}/change/")
    expect(page.locator(".selector-chosen select option")).to_have_text(["owner@example.com"])


def test_the_periodic_task_form_still_translates_its_crontab(
    page: Page, live_server: Any, world: dict[str, Any]
) -> None:
    """django-celery-beat's own inline script is refused; Spaceport's file does its job instead."""
    crontab = CrontabSchedule.objects.create(minute="30", hour="4")
    sign_in(page, live_server, "root@example.com")
    visit(page, f"{live_server.url}/admin/django_celery_beat/periodictask/add/")
    expect(page.locator(".field-crontab_translation")).to_be_hidden()
    page.locator("#id_crontab").select_option(str(crontab.pk))
    expect(page.locator(".field-crontab .help")).to_contain_text("Translation: At 04:30")


def test_the_space_page_follows_a_running_commit_live(page: Page, live_server: Any, world: dict[str, Any]) -> None:
    """The commits card polls through htmx while a commit runs, and stops once it is done."""
    sign_in(page, live_server, "member@example.com")
    visit(page, f"{live_server.url}/o/acme/s/raw/")
    card = page.locator("#commits")
    expect(card).to_have_attribute("data-polling", "true")
    row = card.locator(f"[data-commit='{world['commit'].pk}']")
    expect(row).to_have_attribute("data-state", "running")
    page.evaluate("window.stillTheSamePage = true")

    Commit.objects.filter(pk=world["commit"].pk).update(state=CommitState.SUCCEEDED)
    expect(row).to_have_attribute("data-state", "succeeded", timeout=10_000)
    expect(card).to_have_attribute("data-polling", "false")
    assert page.evaluate("window.stillTheSamePage") is True, "the page was reloaded instead of updated"
