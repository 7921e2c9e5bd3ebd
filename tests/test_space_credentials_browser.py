"""The "Get access" card in a real browser: one click, the credential appears, no page load.

Drives Debian's Chromium against the live test server and a real ``rclone serve s3`` connection,
and refreshes ``docs/screenshots/space-credentials.png``.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
import requests
from playwright.sync_api import Page, expect

from connections.providers.registry import forget_clients
from portal.tenancy.changes import create_organization, create_space
from portal.tenancy.grants import Grant, Role, Scope
from tests.conftest import PASSWORD, make_user
from tests.emulators import RcloneS3
from tests.fixtures.browser import SCREENSHOTS
from tests.test_space_credentials_page import connect_aws, connect_rclone

pytestmark = pytest.mark.browser


@pytest.fixture
def world(transactional_db: None, rclone_s3: RcloneS3) -> dict[str, Any]:
    """Acme with storage on rclone, and a member who supplies the ``raw`` space."""
    forget_clients()
    bucket = f"acme-{uuid.uuid4().hex[:8]}"
    store = rclone_s3.client()
    store.create_bucket(Bucket=bucket)
    store.put_object(Bucket=bucket, Key="spaceport/raw/2024/run-001.csv", Body=b"t,value\n0,1\n")
    owner = make_user("owner@example.com")
    member = make_user("member@example.com")
    acme = create_organization(name="acme", display_name="Acme Research", owner=owner)
    raw = create_space(acme, name="raw", display_name="Raw measurements", description="Instrument output, as recorded.")
    Grant.objects.create(user=member, scope=Scope.ORGANIZATION, role=Role.ACCESS, organization=acme)
    Grant.objects.create(user=member, scope=Scope.SPACE, role=Role.SUPPLIER, organization=acme, space=raw)
    connect_rclone(acme, rclone_s3, bucket)
    return {"bucket": bucket}


def test_one_click_shows_the_credential_without_a_page_load(
    page: Page, live_server: Any, world: dict[str, Any]
) -> None:
    page.goto(f"{live_server.url}/accounts/login/?next=/o/acme/s/raw/")
    page.fill("#id_login", "member@example.com")
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page).to_have_url(f"{live_server.url}/o/acme/s/raw/")

    card = page.locator("#get-access")
    expect(card.get_by_role("heading", name="Get access")).to_be_visible()
    expect(card.locator("button.offer")).to_have_count(3)
    expect(card.get_by_role("button", name=re.compile("delete"))).to_have_count(0)
    page.evaluate("window.spaceportNoReload = true")

    card.get_by_role("button", name=re.compile(r"^Read & write")).click()
    expect(card.locator("[data-field='object_keys'] .field-error")).to_contain_text("name the objects to write")

    card.get_by_label("Object keys").fill("2024/run-001.csv")
    card.get_by_role("button", name=re.compile(r"^Read\b")).first.click()

    credential = page.locator("#get-access [data-credential]")
    expect(credential).to_be_visible()
    expect(credential).to_contain_text("Read credential for raw")
    expect(credential).to_contain_text("Presigned URLs")
    expect(credential.locator("[data-countdown]")).to_have_text(re.compile(r"^\d+ min \d\d s left$"))
    assert page.evaluate("window.spaceportNoReload") is True, "the page was loaded again"

    tabs = credential.get_by_role("tab")
    expect(tabs).to_have_text(["List with curl", "Objects with curl"])
    listing, download = credential.locator("#snippet-code-list"), credential.locator("#snippet-code-curl")
    expect(listing).to_be_visible()
    expect(listing).to_contain_text("curl -fsS")
    expect(download).to_be_hidden()
    tabs.filter(has_text="Objects with curl").click()
    expect(download).to_be_visible()
    expect(download).to_contain_text("curl -fsS -o run-001.csv")
    expect(listing).to_be_hidden()
    download_url = credential.locator(".secret").filter(has_text="URL for 2024/run-001.csv").get_by_role("textbox")
    assert requests.get(download_url.input_value(), timeout=10).content == b"t,value\n0,1\n"

    listing_url = credential.locator(".secret").filter(has_text="Listing URL")
    copy = listing_url.locator("button[data-copy]")
    expect(copy).to_have_text("Copy")
    copy.click()
    expect(copy).to_have_text("Copied")
    list_url = page.evaluate("navigator.clipboard.readText()")
    assert list_url == listing_url.get_by_role("textbox").input_value()
    answer = requests.get(list_url, timeout=10)
    assert answer.status_code == 200 and "spaceport/raw/2024/run-001.csv" in answer.text

    page.mouse.move(0, 0)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=SCREENSHOTS / "space-credentials.png", full_page=True)


def test_an_aws_space_offers_the_profile_for_long_jobs(page: Page, live_server: Any, transactional_db: None) -> None:
    owner = make_user("owner@example.com")
    member = make_user("member@example.com")
    acme = create_organization(name="acme", display_name="Acme Research", owner=owner)
    raw = create_space(acme, name="raw", display_name="Raw measurements")
    Grant.objects.create(user=member, scope=Scope.ORGANIZATION, role=Role.ACCESS, organization=acme)
    Grant.objects.create(user=member, scope=Scope.SPACE, role=Role.SUPPLIER, organization=acme, space=raw)
    connect_aws(acme)
    page.goto(f"{live_server.url}/accounts/login/?next=/o/acme/s/raw/")
    page.fill("#id_login", "member@example.com")
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page).to_have_url(f"{live_server.url}/o/acme/s/raw/")

    profile = page.locator("#aws-profile")
    expect(profile).to_be_hidden()
    page.get_by_text("For jobs that run longer than a credential lives").click()
    expect(profile).to_be_visible()
    expect(profile).to_have_text(
        "[profile acme-raw]\n"
        f"credential_process = spaceport credentials --url {live_server.url} --organization acme --space raw "
        "--access write --format aws\n"
        "region = eu-central-1"
    )
    expect(page.locator("#long-jobs").get_by_role("link", name="API token")).to_have_attribute(
        "href", "/account/tokens/"
    )
    page.locator("#get-access").screenshot(path=SCREENSHOTS / "space-long-jobs.png")
