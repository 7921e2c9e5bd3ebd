"""In Chromium: the space page names a missing container and its command, the disable page says what is
revoked and what is not, and the credentials card says whether the token it shows can be recalled.

Refreshes docs/screenshots/space-missing-container.png, disable-azure.png, disable-aws.png and
space-credentials-revocable.png.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from connections import probe, tasks
from connections.active import make_active
from connections.models import CloudConnection, Status
from portal.tenancy.changes import create_organization, create_space
from portal.tenancy.grants import Grant, Role, Scope
from portal.tenancy.models import Organization
from tests.conftest import PASSWORD, make_user
from tests.emulators import Azurite
from tests.fixtures.browser import SCREENSHOTS
from tests.test_space_storage import read_only, service

pytestmark = pytest.mark.browser


def sign_in(page: Page, live_server: Any, email: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_login", email)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page).to_have_url(f"{live_server.url}/")


def on_azurite(organization: Organization, name: str, connection_string: str) -> CloudConnection:
    connection = CloudConnection.objects.create(
        organization=organization,
        name=name,
        provider="azure",
        method="azure_connection_string",
        secret={"connection_string": connection_string},
        status=Status.VALID,
    )
    make_active(connection)
    organization.refresh_from_db()
    return connection


def fits(page: Page, selector: str) -> bool:
    """No element of ``selector`` is wider than the page: long commands wrap instead of clipping."""
    return bool(
        page.eval_on_selector_all(
            selector, "els => els.every(e => e.getBoundingClientRect().right <= document.documentElement.clientWidth)"
        )
    )


def test_missing_container_disable_pages_and_card(
    page: Page, live_server: Any, transactional_db: None, azurite: Azurite
) -> None:
    owner = make_user("owner@example.com")
    if not service(azurite).get_container_client("loadingzone").exists():
        service(azurite).create_container("loadingzone")

    # A connection that may not create containers: the space page says what to create.
    initech = create_organization(name="initech", display_name="Initech", owner=owner)
    on_azurite(initech, "readonly", read_only(azurite))
    reports = create_space(initech, name="quarterly-reports", display_name="Quarterly reports")
    tasks.prepare_space_storage(reports.pk)
    sign_in(page, live_server, "owner@example.com")
    page.goto(f"{live_server.url}/o/initech/s/quarterly-reports/")
    notice = page.locator("#space-storage")
    expect(notice).to_contain_text("The container quarterly-reports does not exist yet")
    expect(notice.locator("pre")).to_have_text(
        "az storage container create --account-name devstoreaccount1 --name quarterly-reports --auth-mode login"
    )
    assert fits(page, "#space-storage pre")
    notice.screenshot(path=SCREENSHOTS / "space-missing-container.png")

    # An account-key connection: the container is made, tokens are revocable, the card says so.
    acme = create_organization(name="acmerevoke", display_name="Acme", owner=owner)
    connection = on_azurite(acme, "azurite", azurite.connection_string)
    probe.validate(connection)
    raw = create_space(acme, name=f"raw-{connection.pk}", display_name="Raw measurements")
    tasks.prepare_space_storage(raw.pk)
    Grant.objects.create(user=owner, scope=Scope.SPACE, role=Role.SUPPLIER, organization=acme, space=raw)
    page.goto(f"{live_server.url}/o/acmerevoke/s/{raw.name}/")
    expect(page.locator("#space-storage")).to_have_count(0)
    page.locator("#get-access").get_by_role("button", name=re.compile("Read")).first.click()
    revocation = page.locator("#credential-revocation")
    expect(revocation).to_contain_text(
        "Revoked at once if the connection is disabled or the space or organization is deleted"
    )
    page.locator("#get-access").screenshot(path=SCREENSHOTS / "space-credentials-revocable.png")

    page.goto(f"{live_server.url}/o/acmerevoke/connections/azurite/")
    page.get_by_role("link", name="Disable connection…").click()
    expect(page).to_have_url(f"{live_server.url}/o/acmerevoke/connections/azurite/disable/")
    expect(page.locator("#revocation-summary")).to_contain_text("stops working at once")
    page.screenshot(path=SCREENSHOTS / "disable-azure.png", full_page=True)
    page.get_by_role("button", name="Disable connection").click()
    expect(page).to_have_url(f"{live_server.url}/o/acmerevoke/connections/azurite/")
    expect(page.locator("body")).to_contain_text("the tokens it issued are being revoked")

    # AWS: nothing can be recalled by Spaceport; the page shows the role's revoke-sessions step.
    CloudConnection.objects.create(
        organization=acme,
        name="aws-role",
        provider="aws",
        method="aws_cross_account_role",
        config={"role_arn": "arn:aws:iam::123456789012:role/SpaceportAccess", "bucket": "b", "region": "eu-west-1"},
        status=Status.VALID,
    )
    page.goto(f"{live_server.url}/o/acmerevoke/connections/aws-role/disable/")
    expect(page.locator("#revocation-summary")).to_contain_text("at most 12 hours for reading")
    expect(page.locator("#disable-connection")).to_contain_text("Revoke active sessions")
    expect(page.locator("#disable-connection")).to_contain_text("AWSRevokeOlderSessions")
    assert fits(page, "#disable-connection pre")
    page.screenshot(path=SCREENSHOTS / "disable-aws.png", full_page=True)
