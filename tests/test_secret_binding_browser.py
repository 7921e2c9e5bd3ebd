"""The details page in Chromium: the IAM token URL is a choice, and moving a stored key says what to do."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from connections import lifecycle
from connections.methods import Method
from connections.models import CloudConnection
from portal.tenancy.changes import create_organization
from tests.conftest import make_user
from tests.fixtures.browser import sign_in

pytestmark = pytest.mark.browser

IBM_IAM = "https://iam.cloud.ibm.com/identity/token"
PRIVATE_IAM = "https://private.iam.cloud.ibm.com/identity/token"
API_KEY = "ibm-api-key-" + "k" * 32


@pytest.fixture
def connection(transactional_db: None, settings: Any) -> CloudConnection:
    settings.SPACEPORT_IBM_IAM_TOKEN_URLS = [IBM_IAM, PRIVATE_IAM]
    owner = make_user("owner@example.com")
    acme = create_organization(name="acme", display_name="Acme Research", owner=owner)
    values = {
        "endpoint": "https://s3.eu-de.cloud-object-storage.appdomain.cloud",
        "bucket": "acme-data",
        "api_key": API_KEY,
    }
    return lifecycle.create_connection(acme, name="cos", method=Method.IBM_API_KEY, values=values, validate=False)


def test_moving_the_key_to_another_token_url_asks_for_the_key(
    page: Page, live_server: Any, connection: CloudConnection
) -> None:
    sign_in(page, live_server, "owner@example.com")
    page.goto(f"{live_server.url}/o/acme/connections/cos/details/")

    iam = page.locator("select#id_iam_url")
    expect(iam).to_have_value(IBM_IAM)
    assert iam.locator("option").all_inner_texts() == [IBM_IAM, PRIVATE_IAM]
    iam.select_option(PRIVATE_IAM)
    page.get_by_role("button", name="Save and validate").click()

    expect(page.get_by_text("Enter the API key again to change where it is sent")).to_be_visible()
    expect(page.get_by_text("Changing the IAM token URL changes where the stored API key is sent")).to_be_visible()
    page.screenshot(path="/tmp/binding-details-refusal.png", full_page=True)
    connection.refresh_from_db()
    assert connection.config["iam_url"] == IBM_IAM

    page.locator("select#id_iam_url").select_option(PRIVATE_IAM)
    page.fill("#id_api_key", API_KEY)
    page.get_by_role("button", name="Save and validate").click()

    expect(page).to_have_url(f"{live_server.url}/o/acme/connections/cos/")
    connection.refresh_from_db()
    assert connection.config["iam_url"] == PRIVATE_IAM
