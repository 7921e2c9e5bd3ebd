"""The per-organization identities on the wizard's setup pages, in headless Chromium.

Screenshots go to ``docs/screenshots/wizard-identity-*.png``.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from connections.drafts import start_draft
from connections.methods import Method
from connections.providers.identity import workload_subject
from tests.fixtures.browser import SCREENSHOTS
from tests.test_wizard_browser import owner, sign_in

__all__ = ["owner"]

pytestmark = pytest.mark.browser


def test_setup_pages_show_this_organizations_identity(page: Page, live_server: Any, owner: Any, settings: Any) -> None:
    settings.SPACEPORT_OIDC_ISSUER_URL = "https://spaceport.example.com"
    settings.SPACEPORT_GCP_SERVICE_ACCOUNT_POOL = ["sp-acme-3f9a1c@spaceport-prod.iam.gserviceaccount.com"]
    organization = owner.owned_organizations.get()
    sign_in(page, live_server, owner.email)

    aws = start_draft(organization, Method.AWS_WEB_IDENTITY, created_by=owner)
    page.goto(f"{live_server.url}/o/acme/connections/{aws.name}/setup/")
    subject = workload_subject(aws)
    expect(page.locator("#identity-3")).to_have_text(subject)
    trust = json.loads(page.locator("#code-2").inner_text())
    assert trust["Statement"][0]["Condition"]["StringEquals"]["spaceport.example.com:sub"] == subject
    expect(page.locator("[data-copy='#identity-3']")).to_be_visible()
    page.screenshot(path=SCREENSHOTS / "wizard-identity-aws-web-identity.png", full_page=True)

    gcp = start_draft(organization, Method.GCP_WORKLOAD_IDENTITY, created_by=owner)
    page.goto(f"{live_server.url}/o/acme/connections/{gcp.name}/setup/")
    expect(page.locator("#code-1")).to_contain_text(f"assertion.sub == '{workload_subject(gcp)}'")
    page.screenshot(path=SCREENSHOTS / "wizard-identity-gcp-workload-identity.png", full_page=True)

    direct = start_draft(organization, Method.GCP_DIRECT_IAM, created_by=owner)
    page.goto(f"{live_server.url}/o/acme/connections/{direct.name}/setup/")
    expect(page.locator("#identity-1")).to_have_text("sp-acme-3f9a1c@spaceport-prod.iam.gserviceaccount.com")
    expect(page.locator("#code-1")).to_contain_text(
        "--member=serviceAccount:sp-acme-3f9a1c@spaceport-prod.iam.gserviceaccount.com"
    )
    page.screenshot(path=SCREENSHOTS / "wizard-identity-gcp-direct-iam.png", full_page=True)
