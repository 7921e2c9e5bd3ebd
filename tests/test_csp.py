"""The Content-Security-Policy header, and templates that need nothing it forbids.

The browser tests (tests/test_csp_browser.py and every test using the ``page`` fixture) show the
pages work under the policy; these check the header itself and keep inline code out of templates.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from tests.pages_support import client_for

POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
    "base-uri 'self'; frame-ancestors 'none'; form-action 'self'"
)
TEMPLATES = Path(settings.BASE_DIR) / "templates"
# Inline code the policy refuses: a <script> with a body, <style>, style= and on*= attributes,
# javascript: links, and htmx's hx-on (which compiles its attribute with Function()).
INLINE_CODE = {
    "inline script": re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I),
    "style element": re.compile(r"<style\b", re.I),
    "style attribute": re.compile(r"\sstyle=", re.I),
    "event handler attribute": re.compile(r"\son[a-z]+=", re.I),
    "javascript: URL": re.compile(r"javascript:", re.I),
    "hx-on": re.compile(r"\b(?:data-)?hx-on", re.I),
}


@pytest.mark.parametrize(
    "path",
    ["/accounts/login/", "/accounts/password/reset/", "/admin/login/", "/api/docs/", "/no-such-page/"],
)
def test_pages_for_everyone_carry_the_policy(db: None, path: str) -> None:
    response = Client().get(path)
    assert response["Content-Security-Policy"] == POLICY


@pytest.mark.parametrize("path", ["/", "/o/acme/", "/o/acme/s/raw/", "/accounts/2fa/", "/api/v1/me/"])
def test_signed_in_pages_and_api_answers_carry_the_policy(space: Any, member: Any, path: str) -> None:
    response = client_for(member).get(path)
    assert response.status_code == 200
    assert response["Content-Security-Policy"] == POLICY


def test_admin_pages_carry_the_policy(platform_admin: Any) -> None:
    response = client_for(platform_admin).get("/admin/portal/organization/")
    assert response.status_code == 200
    assert response["Content-Security-Policy"] == POLICY


def test_only_djangos_debug_pages_go_without_it_and_only_in_development(db: None, settings: Any) -> None:
    settings.DEBUG = True
    assert "Content-Security-Policy" not in Client().get("/no-such-page/")
    assert Client().get("/accounts/login/")["Content-Security-Policy"] == POLICY


def test_swagger_ui_is_local_and_starts_from_a_script_file(db: None) -> None:
    page = Client().get("/api/docs/").content.decode()
    sources = re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', page)
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in sources
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui.css" in sources
    assert all(source.startswith("/") for source in sources), sources
    assert not INLINE_CODE["inline script"].search(page)
    assert not INLINE_CODE["style element"].search(page)

    script = Client().get("/api/docs/?script=")
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle(" in script.content.decode()
    assert '"/api/schema/"' in script.content.decode()


def test_the_schema_names_no_outside_validator(db: None) -> None:
    """Swagger UI's validator badge is an image from swagger.io: the policy would refuse it offline."""
    script = Client().get("/api/docs/?script=").content.decode()
    assert '"validatorUrl": null' in script


@pytest.mark.parametrize(
    "template", sorted(TEMPLATES.rglob("*.html")), ids=lambda path: str(path.relative_to(TEMPLATES))
)
def test_no_template_holds_inline_code(template: Path) -> None:
    source = template.read_text()
    found = [kind for kind, pattern in INLINE_CODE.items() if pattern.search(source)]
    assert not found, f"{template.relative_to(TEMPLATES)} has {', '.join(found)}: move it to a file under static/"


def test_htmx_injects_no_style_of_its_own() -> None:
    """htmx adds a <style> for its indicator unless told not to; the policy would refuse it."""
    for template in TEMPLATES.rglob("*.html"):
        source = template.read_text()
        if "htmx.min.js" in source:
            assert '"includeIndicatorStyles": false' in source, template
            assert '"allowEval": false' in source, template
