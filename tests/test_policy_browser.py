"""In Chromium: the policy editor names the statement at fault, and the simulator explains a deny.

Refreshes docs/screenshots/policy-editor.png and policy-simulator.png.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from accessgrants.models import IdentityPolicy, PolicyAttachment
from portal.tenancy.changes import create_organization, create_space
from portal.tenancy.grants import Grant, Role, Scope
from tests.conftest import PASSWORD, make_user
from tests.fixtures.browser import SCREENSHOTS

pytestmark = pytest.mark.browser

POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "ReadRaw",
            "Effect": "Allow",
            "Action": ["s3:Get*", "s3:ListBucket"],
            "Resource": ["acme-raw", "acme-raw/*"],
        },
        {"Sid": "NoSecrets", "Effect": "Deny", "Action": "s3:*", "Resource": "acme-raw/secret/*"},
    ],
}


def sign_in(page: Page, live_server: Any, email: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_login", email)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page).to_have_url(f"{live_server.url}/")


def test_the_editor_and_the_simulator(page: Page, live_server: Any) -> None:
    owner = make_user("owner@example.com")
    analyst = make_user("ana@example.com")
    acme = create_organization(name="acme", display_name="Acme Research", owner=owner)
    raw = create_space(acme, name="raw")
    Grant.objects.create(user=analyst, scope=Scope.ORGANIZATION, role=Role.ACCESS, organization=acme)
    Grant.objects.create(user=analyst, scope=Scope.SPACE, role=Role.USER, organization=acme, space=raw)
    policy = IdentityPolicy.objects.create(organization=acme, name="analysts", document=POLICY)
    PolicyAttachment.objects.create(policy=policy, user=analyst)

    sign_in(page, live_server, "owner@example.com")
    page.goto(f"{live_server.url}/o/acme/")
    page.locator("#policies-card").get_by_role("link", name="Policies").click()
    page.get_by_role("link", name="analysts").click()
    broken = json.loads(json.dumps(POLICY))
    broken["Statement"][1]["Action"] = "s3:DeleteEverything"
    page.fill("#id_document", json.dumps(broken, indent=2))
    page.get_by_role("button", name="Save policy").click()
    expect(page.locator("#form-problem")).to_contain_text("Statement[2].Action: unknown action s3:DeleteEverything")
    expect(page.locator("[data-field=document] .field-error")).to_contain_text("Statement[2].Action")
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(SCREENSHOTS / "policy-editor.png"))

    page.get_by_role("link", name="Simulator").first.click()
    page.fill("#id_user", "ana@example.com")
    page.select_option("#id_action", "s3:GetObject")
    page.fill("#id_resource", "acme-raw/secret/keys.txt")
    page.get_by_role("button", name="Simulate").click()
    expect(page.locator("#decision")).to_have_attribute("data-decision", "deny")
    expect(page.locator("#decision")).to_contain_text("denied by analysts statement 2 (NoSecrets)")
    page.fill("#id_table-user", "ana@example.com")
    page.select_option("#id_table-space", "raw")
    page.get_by_role("button", name="Show the table").click()
    expect(page.locator('#abilities tr[data-action="s3:GetObject"]')).to_have_attribute("data-decision", "allow")
    page.goto(
        f"{live_server.url}/o/acme/simulate/?user=ana%40example.com&action=s3%3AGetObject"
        "&resource=acme-raw%2Fsecret%2Fkeys.txt&secure=on"
    )
    page.screenshot(path=str(SCREENSHOTS / "policy-simulator.png"), full_page=True)
