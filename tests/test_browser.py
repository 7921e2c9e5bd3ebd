"""The pages in a real browser: sign in, look around, create a space and grant a role.

Drives Debian's Chromium (``scripts/install-test-tools`` installs it) against the live test server
and refreshes the screenshots in ``docs/screenshots/``.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from portal.tenancy.changes import create_organization, create_space
from portal.tenancy.grants import Grant, Role, Scope
from portal.tenancy.models import Confidentiality, Space
from tests.conftest import PASSWORD, make_user
from tests.fixtures.browser import SCREENSHOTS

pytestmark = pytest.mark.browser


@pytest.fixture
def world(transactional_db: None) -> dict[str, Any]:
    """Two organizations with a few spaces and people, so the pages show what they are for."""
    owner = make_user("owner@example.com")
    member = make_user("member@example.com")
    colleague = make_user("colleague@example.com")
    acme = create_organization(
        name="acme",
        display_name="Acme Research",
        description="Measurements and results of the Acme research labs.",
        owner=owner,
        tags=["research", "eu-west"],
    )
    raw = create_space(acme, name="raw", display_name="Raw measurements", description="Instrument output, as recorded.")
    create_space(
        acme, name="archive", display_name="Archive", confidentiality=Confidentiality.PRIVATE, retention_days=0
    )
    Grant.objects.create(user=owner, scope=Scope.SPACE, role=Role.SUPPLIER, organization=acme, space=raw)
    Grant.objects.create(user=member, scope=Scope.ORGANIZATION, role=Role.ACCESS, organization=acme)
    Grant.objects.create(user=member, scope=Scope.SPACE, role=Role.SUPPLIER, organization=acme, space=raw)
    globex = create_organization(name="globex", display_name="Globex Logistics", confidentiality=Confidentiality.PUBLIC)
    shipments = create_space(globex, name="shipments", display_name="Shipments", confidentiality=Confidentiality.PUBLIC)
    Grant.objects.create(user=owner, scope=Scope.ORGANIZATION, role=Role.ACCESS, organization=globex)
    Grant.objects.create(user=owner, scope=Scope.SPACE, role=Role.USER, organization=globex, space=shipments)
    return {"owner": owner, "colleague": colleague}


def test_owner_signs_in_creates_a_space_and_grants_a_role(page: Page, live_server: Any, world: dict[str, Any]) -> None:
    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/$"))
    expect(page.get_by_role("heading", name="Sign in to Spaceport")).to_be_visible()
    page.screenshot(path=SCREENSHOTS / "sign-in.png")

    page.fill("#id_login", "owner@example.com")
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.get_by_role("heading", name="Your organizations and spaces")).to_be_visible()
    expect(page.locator(".org-card")).to_have_count(2)
    page.screenshot(path=SCREENSHOTS / "dashboard.png", full_page=True)

    page.locator(".org-card").filter(has_text="Acme Research").get_by_role("link", name="Acme Research").click()
    expect(page).to_have_url(f"{live_server.url}/o/acme/")
    expect(page.locator(".row-loadingzone")).to_have_count(1)

    new_space = page.locator("#new-space")
    new_space.locator("#id_space-name").fill("curated")
    new_space.locator("#id_space-display_name").fill("Curated results")
    new_space.locator("#id_space-confidentiality").select_option("PUBLIC")
    new_space.locator("#id_space-retention_days").fill("90")
    new_space.get_by_role("button", name="Create space").click()
    expect(page).to_have_url(f"{live_server.url}/o/acme/s/curated/")
    expect(page.locator(".flash-success")).to_contain_text("Space curated created.")
    assert Space.objects.filter(organization__name="acme", name="curated", retention_days=90).exists()

    page.get_by_role("navigation", name="Breadcrumb").get_by_role("link", name="acme").click()
    grant = page.locator("#grant")
    expect(grant.locator("#id_grant-space")).to_be_hidden()
    grant.locator("#id_grant-user_email").fill("colleague@example.com")
    grant.locator("#id_grant-scope").select_option("space")
    grant.locator("#id_grant-space").select_option(label="curated")
    grant.locator("#id_grant-role").select_option(label="Supplier")
    grant.get_by_role("button", name="Grant role").click()
    expect(page.locator(".flash-success")).to_contain_text(
        "Granted supplier on space acme/curated to colleague@example.com"
    )
    expect(page.locator("#access")).to_contain_text("colleague@example.com")
    assert Grant.objects.filter(
        user=world["colleague"], scope=Scope.SPACE, role=Role.SUPPLIER, space__name="curated"
    ).exists()
    page.screenshot(path=SCREENSHOTS / "organization.png", full_page=True)

    page.locator("#spaces").get_by_role("link", name="Raw measurements").click()
    expect(page).to_have_url(f"{live_server.url}/o/acme/s/raw/")
    expect(page.locator(".permissions .is-allowed")).to_have_count(2)
    expect(page.locator("[data-no-storage]").get_by_role("link", name="Connect storage")).to_be_visible()
    page.screenshot(path=SCREENSHOTS / "space.png", full_page=True)
