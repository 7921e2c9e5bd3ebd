"""The wizard in a real browser refuses an endpoint that points inside Spaceport's network, next to
the field, and nothing reaches the address (a recording loopback listener stands there)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from connections.models import CloudConnection, Status
from portal.tenancy.changes import create_organization
from tests.conftest import PASSWORD, make_user
from tests.fixtures.browser import SCREENSHOTS
from tests.loopback import RecordingListener, recording_listener

pytestmark = pytest.mark.browser


@pytest.fixture
def owner(transactional_db: None) -> Any:
    user = make_user("owner@example.com")
    create_organization(name="acme", display_name="Acme Research", owner=user)
    return user


@pytest.fixture
def listener() -> Iterator[RecordingListener]:
    with recording_listener() as running:
        yield running


def test_the_wizard_names_the_endpoint_and_why_it_is_refused(
    page: Page, live_server: Any, owner: Any, listener: RecordingListener, settings: Any
) -> None:
    settings.SPACEPORT_ALLOWED_PRIVATE_NETWORKS = []
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_login", owner.email)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.goto(f"{live_server.url}/o/acme/connections/new/")
    page.locator(".choice-card", has_text="S3-compatible store").click()
    page.get_by_role("button", name="Use this method: Static access keys").click()
    page.get_by_role("link", name="Next: enter the details").click()

    for endpoint, why in [
        ("http://169.254.169.254", "this is a cloud metadata address"),
        (f"http://2130706433:{listener.port}", "this address is inside the host's own network"),
    ]:
        page.fill("#id_endpoint", endpoint)
        page.fill("#id_bucket", "acme-data")
        page.fill("#id_access_key_id", "SPACEPORTKEY")
        page.fill("#id_secret_access_key", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
        page.get_by_role("button", name="Save and validate").click()
        expect(page).to_have_url(f"{live_server.url}/o/acme/connections/s3-store/details/")
        expect(page.locator("[data-field='endpoint'].has-error #id_endpoint_error")).to_contain_text(why)
    expect(page.locator("#id_endpoint_error")).to_contain_text("SPACEPORT_ALLOWED_PRIVATE_NETWORKS")
    # The page scrolls to the field in error; from there a full-page capture draws the sticky top bar mid-page.
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=SCREENSHOTS / "wizard-endpoint-refused.png", full_page=True)

    stored = CloudConnection.objects.get(name="s3-store")
    assert (stored.status, stored.config, stored.secret) == (Status.DRAFT, {}, None)
    assert listener.connections == 0
