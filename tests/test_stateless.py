"""Header-authenticated AccessManager calls skip the session-bound middleware, and only those."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from portal.auth.models import ApiToken
from portal.tenancy.models import Space
from tests.conftest import PASSWORD
from tests.emulators import Azurite
from tests.test_snapshots import READ
from tests.test_vending_azure import connect_to_azurite, ensure_containers


@pytest.fixture
def acme(space: Space, azurite: Azurite) -> Space:
    ensure_containers(azurite, "raw", "loadingzone")
    connect_to_azurite(space.organization, azurite)
    return space


def test_a_token_call_leaves_no_session_trace_and_keeps_the_common_headers(acme: Space, member: Any) -> None:
    _, key = ApiToken.issue(member, "script")
    client = Client()
    response = client.post(READ, HTTP_AUTHORIZATION=f"Token {key}")
    assert response.status_code == 200
    assert not hasattr(response.wsgi_request, "session"), "the session middleware never saw it"
    assert not hasattr(response.wsgi_request, "_messages")
    assert not response.cookies
    assert response["X-Frame-Options"] == "DENY"
    assert response["Content-Length"] == str(len(response.content))
    assert response["X-Request-ID"]


def test_a_browser_session_still_takes_the_full_stack(acme: Space, member: Any) -> None:
    browser = Client(enforce_csrf_checks=True)
    assert browser.login(username=member.username, password=PASSWORD)
    browser.get("/")
    response = browser.post(READ, HTTP_X_CSRFTOKEN=browser.cookies["csrftoken"].value)
    assert response.status_code == 200
    assert hasattr(response.wsgi_request, "session")


def test_other_views_with_an_authorization_header_take_the_full_stack(db: None, member: Any) -> None:
    _, key = ApiToken.issue(member, "script")
    response = Client().get("/", HTTP_AUTHORIZATION=f"Token {key}")
    assert hasattr(response.wsgi_request, "session"), "pages are not stateless, whatever the caller sends"
