"""The onboarding wizard in a real browser, from the organization page to a validated connection.

The validation runs in a real Celery worker on Redis, started only once the browser shows the
connection as validating: the page must then turn to "valid" by itself, through htmx polling,
without a reload. Eager tasks would finish inside the form's POST, so the live part would never
be exercised. Storage is ``rclone serve s3``; the screenshots in ``docs/screenshots/wizard-*.png``
are refreshed on the way.
"""

from __future__ import annotations

import json
import re
import secrets
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from connections.models import CloudConnection, Status
from portal.tenancy.changes import create_organization, create_space
from tests.conftest import make_user
from tests.emulators import RcloneS3
from tests.fixtures.browser import DESKTOP, SCREENSHOTS, sign_in

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
OPERATIONS = ["authenticate", "list", "write", "read", "delete"]


@pytest.fixture
def owner(transactional_db: None) -> Any:
    """The owner of ``acme``, which has spaces but no storage yet."""
    user = make_user("owner@example.com")
    acme = create_organization(
        name="acme", display_name="Acme Research", description="Measurements of the Acme labs.", owner=user
    )
    create_space(acme, name="raw", display_name="Raw measurements")
    return user


@pytest.fixture
def bucket(rclone_s3: RcloneS3) -> str:
    name = f"acme-{secrets.token_hex(4)}"
    rclone_s3.client().create_bucket(Bucket=name)
    return name


def shoot(page: Page, name: str) -> None:
    page.screenshot(path=SCREENSHOTS / f"wizard-{name}.png", full_page=True)


def shoot_phone(page: Page, name: str) -> None:
    page.set_viewport_size(PHONE)
    shoot(page, f"phone-{name}")
    page.set_viewport_size(DESKTOP)


def operation_states(page: Page) -> list[tuple[str | None, str | None]]:
    rows = page.locator("#report .checkitem")
    return [(row.get_attribute("data-operation"), row.get_attribute("data-state")) for row in rows.all()]


def test_owner_connects_s3_compatible_storage_and_watches_it_validate_live(
    page: Page, live_server: Any, owner: Any, rclone_s3: RcloneS3, bucket: str, request: pytest.FixtureRequest
) -> None:
    sign_in(page, live_server, owner.email)
    page.goto(f"{live_server.url}/o/acme/")
    storage = page.locator("#storage")
    expect(storage).to_contain_text("No storage is connected yet.")
    storage.get_by_role("link", name="Connect storage").click()

    expect(page).to_have_url(f"{live_server.url}/o/acme/connections/new/")
    expect(page.locator(".choice-card")).to_have_count(5)
    shoot(page, "cloud")
    page.locator(".choice-card", has_text="S3-compatible store").click()

    expect(page.get_by_role("heading", name="S3-compatible store")).to_be_visible()
    page.get_by_role("button", name="Use this method: Static access keys").click()
    expect(page).to_have_url(f"{live_server.url}/o/acme/connections/s3-store/setup/")
    assert CloudConnection.objects.get(name="s3-store").status == Status.DRAFT
    expect(page.locator("#code-1")).to_contain_text('"s3:PutObject"')
    page.get_by_role("link", name="Next: enter the details").click()

    expect(page).to_have_url(f"{live_server.url}/o/acme/connections/s3-store/details/")
    page.fill("#id_endpoint", rclone_s3.endpoint_url)
    page.fill("#id_bucket", bucket)
    page.fill("#id_access_key_id", rclone_s3.key.access_key_id)
    page.fill("#id_secret_access_key", rclone_s3.key.secret_access_key)
    expect(page.locator("#id_verify_tls")).to_be_checked()
    shoot(page, "details")
    shoot_phone(page, "details")
    page.get_by_role("button", name="Save and validate").click()

    expect(page).to_have_url(f"{live_server.url}/o/acme/connections/s3-store/")
    report = page.locator("#report")
    expect(report).to_have_attribute("data-status", "validating")
    expect(report.get_by_role("heading", name="Waiting for a worker")).to_be_visible()
    assert operation_states(page) == [(operation, "pending") for operation in OPERATIONS]
    shoot(page, "validating")
    page.evaluate("window.stillTheSamePage = true")

    request.getfixturevalue("worker")
    expect(report).to_have_attribute("data-status", "valid", timeout=30_000)
    expect(report.get_by_role("heading", name="The connection works")).to_be_visible()
    assert operation_states(page) == [(operation, "passed") for operation in OPERATIONS]
    expect(page.locator("#connection-status")).to_have_text("Valid")
    assert page.evaluate("window.stillTheSamePage") is True, "the page was reloaded instead of updated"
    assert rclone_s3.key.secret_access_key not in page.content()
    shoot(page, "valid")

    report.get_by_role("link", name="Edit details").click()
    expect(page.locator("#id_secret_access_key")).to_have_value("")
    expect(page.locator("#id_bucket")).to_have_value(bucket)
    page.fill("#id_secret_access_key", "not-the-secret-" + secrets.token_hex(8))
    page.get_by_role("button", name="Save and validate").click()
    expect(report).to_have_attribute("data-status", "invalid", timeout=30_000)
    expect(report.get_by_role("heading", name="The connection does not work yet")).to_be_visible()
    failed = report.locator(".checkitem.is-failed").first
    expect(failed.locator(".checkitem-hint")).to_contain_text("What to fix:")
    assert "skipped" in [state for _, state in operation_states(page)]
    connection = CloudConnection.objects.get(name="s3-store")
    assert connection.status == Status.INVALID
    hint = next(c["hint"] for c in connection.validation_report["checks"] if not c["ok"] and not c["skipped"])
    expect(failed.locator(".checkitem-hint")).to_contain_text(hint)
    shoot(page, "invalid")
    shoot_phone(page, "report")

    page.goto(f"{live_server.url}/o/acme/")
    expect(page.locator("#storage .badge-conn-invalid")).to_have_text("Invalid")
    shoot(page, "organization")
    page.locator("#storage").get_by_role("link", name="Manage").click()
    expect(page.locator("tr[data-connection='s3-store'] .badge-conn")).to_have_text("Invalid")
    shoot(page, "list")


def test_aws_cross_account_role_shows_its_external_id_and_trust_policy(
    page: Page, live_server: Any, owner: Any
) -> None:
    sign_in(page, live_server, owner.email)
    page.goto(f"{live_server.url}/o/acme/connections/new/")
    page.locator(".choice-card", has_text="Amazon S3").click()
    recommended = page.locator(".method-card.is-recommended")
    expect(recommended).to_have_count(1)
    expect(recommended).to_contain_text("Cross-account role")
    shoot(page, "method")
    shoot_phone(page, "method")
    recommended.get_by_role("button", name="Use this method: Cross-account role").click()

    expect(page).to_have_url(re.compile(r"/o/acme/connections/aws-s3/setup/$"))
    connection = CloudConnection.objects.get(name="aws-s3")
    assert connection.external_id
    expect(page.locator("#external-id")).to_have_text(connection.external_id)
    expect(page.locator("#external-id-card")).to_contain_text("cannot be changed")
    trust = json.loads(page.locator("#code-1").inner_text())
    assert trust["Statement"][0]["Condition"] == {"StringEquals": {"sts:ExternalId": connection.external_id}}
    copy = page.locator("[data-copy='#code-1']")
    expect(copy).to_be_visible()
    shoot(page, "setup")
    shoot_phone(page, "setup")
