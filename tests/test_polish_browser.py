"""Visual details checked in a real browser: the tokens page, grant tables, forms and code blocks.

Drives Debian's Chromium against the live test server and refreshes ``docs/screenshots/tokens.png``.
Each check measures the rendered page (boxes, computed styles, the clipboard), not the HTML.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from connections.drafts import start_draft
from connections.methods import Method
from portal.auth.models import ApiToken
from portal.tenancy.changes import create_organization, create_space
from portal.tenancy.grants import Grant, Role, Scope
from tests.conftest import make_user
from tests.fixtures.browser import SCREENSHOTS, sign_in

pytestmark = pytest.mark.browser

LAPTOP = {"width": 1180, "height": 800}


@pytest.fixture
def owner(transactional_db: None, settings: Any) -> Any:
    """The owner of ``acme``, with spaces whose names are long enough to test the tables."""
    settings.SPACEPORT_AWS_ACCOUNT_ID = ""
    settings.SPACEPORT_AWS_PRINCIPAL_ARN = ""
    user = make_user("owner@example.com")
    member = make_user("member@example.com")
    acme = create_organization(name="acme", display_name="Acme Research", owner=user)
    for name in ("raw", "instrument-calibration-2024", "curated"):
        space = create_space(acme, name=name)
        Grant.objects.create(user=member, scope=Scope.SPACE, role=Role.SUPPLIER, organization=acme, space=space)
    Grant.objects.create(user=member, scope=Scope.ORGANIZATION, role=Role.ACCESS, organization=acme)
    return user


def test_tokens_are_created_copied_listed_and_revoked_from_the_user_menu(
    page: Page, live_server: Any, owner: Any
) -> None:
    used, _ = ApiToken.issue(owner, "nightly upload job")
    ApiToken.objects.filter(pk=used.pk).update(last_used=timezone.now() - timedelta(hours=2))
    sign_in(page, live_server, owner.email)
    page.locator("[data-menu] summary").click()
    page.get_by_role("link", name="API tokens").click()
    expect(page).to_have_url(f"{live_server.url}/account/tokens/")

    page.fill("#id_name", "laptop scripts")
    page.select_option("#id_lifetime", "30")
    page.get_by_role("button", name="Create token").click()
    key = page.locator("#token-key").inner_text()
    assert re.fullmatch(r"spt_[A-Za-z0-9_-]{40,}", key)
    copy = page.locator("#token-issued .copy-button")
    copy.click()
    expect(copy).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == key
    expect(page.locator("#tokens tbody tr")).to_have_count(2)
    page.screenshot(path=SCREENSHOTS / "tokens.png", full_page=True)

    page.goto(f"{live_server.url}/account/tokens/")
    expect(page.locator("#token-key")).to_have_count(0)
    row = page.locator("#tokens tbody tr", has_text="nightly upload job")
    page.once("dialog", lambda dialog: dialog.dismiss())
    row.get_by_role("button", name="Revoke").click()
    expect(page.locator("#tokens tbody tr")).to_have_count(2)
    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Revoke").click()
    expect(page.locator(".flash-success")).to_contain_text("Token nightly upload job revoked")
    expect(page.locator("#tokens tbody tr")).to_have_count(1)
    assert list(ApiToken.objects.values_list("name", flat=True)) == ["laptop scripts"]


def _one_line(page: Page, selector: str) -> list[str]:
    """The cells under ``selector`` whose text runs over more than one line."""
    return page.eval_on_selector_all(
        selector,
        """cells => cells.filter(cell => {
            const line = parseFloat(getComputedStyle(cell).lineHeight) || 20;
            const range = document.createRange();
            range.selectNodeContents(cell);
            return range.getBoundingClientRect().height > line * 1.5;
        }).map(cell => cell.textContent.trim())""",
    )


def test_the_on_column_keeps_words_whole_on_a_laptop_screen(page: Page, live_server: Any, owner: Any) -> None:
    page.set_viewport_size(LAPTOP)
    sign_in(page, live_server, owner.email)
    for path in ("/o/acme/", "/o/acme/s/instrument-calibration-2024/"):
        page.goto(f"{live_server.url}{path}")
        targets = page.locator(".table-grants .cell-target a")
        expect(targets.first).to_be_visible()
        assert _one_line(page, ".table-grants .cell-target a, .table-grants .cell-target .muted") == [], path
        cut = targets.evaluate_all(
            "links => links.filter(a => a.scrollWidth > a.clientWidth + 1).map(a => a.textContent)"
        )
        assert set(cut) <= {"instrument-calibration-2024"}, cut
        table = page.locator(".table-grants").first.evaluate(
            "table => table.closest('.table-wrap').scrollWidth - table.closest('.table-wrap').clientWidth"
        )
        assert table <= 1, "the grants table needs no sideways scrolling on a laptop screen"


def test_the_webhook_inputs_look_like_every_other_input(page: Page, live_server: Any, owner: Any) -> None:
    sign_in(page, live_server, owner.email)
    page.goto(f"{live_server.url}/o/acme/")
    style = (
        "el => { const s = getComputedStyle(el); return [s.borderTopColor, s.borderRadius, s.paddingLeft, s.width]; }"
    )
    webhook = page.locator("#webhook-url").evaluate(style)
    grant = page.locator("#id_grant-user_email").evaluate(style)
    assert webhook == grant
    widths = page.evaluate(
        """() => [document.querySelector("#webhook-url"), document.querySelector("#id_grant-user_email")]
            .map(el => Math.round(el.getBoundingClientRect().width))"""
    )
    assert widths[0] == widths[1], "the webhook URL fills its card like the other inputs"


def test_a_refused_space_is_brought_into_view_with_its_error(page: Page, live_server: Any, owner: Any) -> None:
    sign_in(page, live_server, owner.email)
    page.goto(f"{live_server.url}/o/acme/")
    form = page.locator("#new-space")
    form.locator("#id_space-name").fill("-lead")
    form.get_by_role("button", name="Create space").click()
    expect(page.locator("#form-problem")).to_contain_text("The space was not created")
    error = page.locator("#id_space-name_error")
    expect(error).to_contain_text("starting and ending with a letter or digit")
    expect(error).to_be_in_viewport()
    expect(page.locator("#id_space-name")).to_be_focused()


def test_wide_code_blocks_stay_inside_their_card_and_the_operator_note_shows(
    page: Page, live_server: Any, owner: Any
) -> None:
    draft = start_draft(owner.owned_organizations.get(), Method.AWS_CROSS_ACCOUNT_ROLE, created_by=owner)
    page.set_viewport_size(LAPTOP)
    sign_in(page, live_server, owner.email)
    page.goto(f"{live_server.url}/o/acme/connections/{draft.name}/setup/")
    expect(page.locator("#operator-settings-missing")).to_contain_text("SPACEPORT_AWS_ACCOUNT_ID")
    blocks = page.eval_on_selector_all(
        ".code-block",
        """blocks => blocks.map(block => {
            const pre = block.querySelector("pre");
            const card = block.closest(".card").getBoundingClientRect();
            return {
                language: pre.dataset.language,
                inside: pre.getBoundingClientRect().right <= card.right + 0.5,
                hidden: pre.scrollWidth - pre.clientWidth,
            };
        })""",
    )
    assert blocks, "no code blocks on the page"
    assert all(block["inside"] for block in blocks), blocks
    assert any(block["language"] == "shell" for block in blocks), blocks
    assert all(block["hidden"] <= 1 for block in blocks), f"a line is cut off instead of wrapping: {blocks}"


def test_the_gcp_file_picker_is_a_styled_button(page: Page, live_server: Any, owner: Any) -> None:
    draft = start_draft(owner.owned_organizations.get(), Method.GCP_SERVICE_ACCOUNT_KEY, created_by=owner)
    sign_in(page, live_server, owner.email)
    page.goto(f"{live_server.url}/o/acme/connections/{draft.name}/details/")
    picker = page.locator("input[type=file]").first
    button = picker.evaluate(
        """el => { const s = getComputedStyle(el, "::file-selector-button");
                   return [s.backgroundColor, s.borderTopLeftRadius, s.fontWeight]; }"""
    )
    assert button == ["rgb(255, 255, 255)", "6px", "600"], "the browser's grey default button is restyled"
