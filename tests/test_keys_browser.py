"""In Chromium: a member requests an S3 key, an admin approves it on the organization page, and the
member collects it once, with its secret and snippets, then cannot see it again.

Refreshes docs/screenshots/key-requests.png and s3-key-collected.png.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import override_settings
from playwright.sync_api import Page, expect

from accessgrants.models import AccessKey
from portal.tenancy.changes import create_organization
from portal.tenancy.grants import Grant, Role, Scope
from tests.conftest import make_user
from tests.fixtures.browser import SCREENSHOTS, sign_in

pytestmark = pytest.mark.browser


@override_settings(SPACEPORT_S3_GATEWAY_URL="https://s3.spaceport.example")
def test_request_approve_collect_once(page: Page, live_server: Any) -> None:
    owner = make_user("owner@example.com")
    analyst = make_user("ana@example.com")
    acme = create_organization(name="acme", display_name="Acme Research", owner=owner)
    Grant.objects.create(user=analyst, scope=Scope.ORGANIZATION, role=Role.ACCESS, organization=acme)

    sign_in(page, live_server, "ana@example.com")
    page.get_by_role("link", name="My S3 keys").click()
    page.fill("#id_reason", "Nightly backups of the raw measurements")
    page.fill("#id_lifetime_days", "90")
    page.get_by_role("button", name="Request key").click()
    expect(page.locator("#key-requests")).to_contain_text("Requested")
    page.context.clear_cookies()

    sign_in(page, live_server, "owner@example.com")
    page.goto(f"{live_server.url}/o/acme/")
    card = page.locator("#key-requests")
    expect(card).to_contain_text("ana@example.com")
    expect(card).to_contain_text("Nightly backups")
    card.get_by_placeholder("Reason (needed to decline)").fill("Fine for the backup job")
    card.scroll_into_view_if_needed()
    page.screenshot(path=str(SCREENSHOTS / "key-requests.png"))
    card.get_by_role("button", name="Approve").click()
    expect(page.locator("#key-requests")).to_contain_text("No pending requests")
    page.context.clear_cookies()

    sign_in(page, live_server, "ana@example.com")
    page.goto(f"{live_server.url}/keys/")
    expect(page.locator("#key-requests")).to_contain_text("Approved")
    page.get_by_role("button", name="Collect key").click()
    issued = page.locator("#key-issued")
    expect(issued).to_contain_text("shows it this once")
    secret = page.locator("#issued-secret-key").inner_text()
    assert len(secret) == 40
    assert AccessKey.objects.get(user=analyst).secret == {"secret_access_key": secret}
    expect(page.locator("#snippet-boto3")).to_contain_text('endpoint_url="https://s3.spaceport.example"')
    expect(page.locator("#snippet-aws")).to_contain_text(secret)
    expect(issued.locator(".copy-button").first).to_be_visible()
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(SCREENSHOTS / "s3-key-collected.png"), full_page=True)

    page.goto(f"{live_server.url}/keys/")
    expect(page.locator("#keys")).to_contain_text(AccessKey.objects.get(user=analyst).access_key_id)
    assert secret not in page.content()
    expect(page.get_by_role("button", name="Collect key")).to_have_count(0)
