"""The connection lifecycle's guards, asked the same way through the API and the pages.

Each transition a state does not allow is refused by :mod:`connections.lifecycle`; the API answers
400 with the refusal's code on ``status``, the page shows the same sentence, and nothing changes.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse
from django.utils.html import escape

from connections import lifecycle
from connections.drafts import start_draft
from connections.methods import Method
from connections.models import CloudConnection, Status
from portal.tenancy.models import Organization
from tests.conftest import assert_api_error
from tests.connection_inputs import VALID_INPUTS
from tests.pages_support import client_for

pytestmark = pytest.mark.both_databases

# transition -> (API method, API tail, API body, page URL name, page body)
REQUESTS: dict[str, tuple[str, str, dict[str, Any], str, dict[str, Any]]] = {
    "disable": ("post", "disable", {}, "connection_disable", {}),
    "enable": ("post", "enable", {}, "connection_enable", {}),
    "edit": ("patch", "", {"name": "renamed"}, "connection_details", {"name": "renamed"}),
    "validate": ("post", "validate", {}, "connection_validate", {}),
}


def connection_in(organization: Organization, owner: Any, state: str) -> CloudConnection:
    """A connection in ``state``; ``incomplete`` is a draft whose fields are not filled in yet."""
    if state == "incomplete":
        return start_draft(organization, Method.AWS_ACCESS_KEYS, created_by=owner)
    method = Method.AWS_ACCESS_KEYS
    connection = lifecycle.create_connection(
        organization, name="primary", method=method, values=VALID_INPUTS[method], validate=False
    )
    CloudConnection.objects.filter(pk=connection.pk).update(status=state)
    return CloudConnection.objects.get(pk=connection.pk)


def snapshot(connection: CloudConnection) -> tuple[Any, ...]:
    row = CloudConnection.objects.get(pk=connection.pk)
    return (row.name, row.status, row.status_message, row.config, row.secret, row.modified)


@pytest.mark.parametrize(
    ("state", "transition", "code"),
    [
        (Status.DRAFT, "disable", "connection_is_draft"),
        (Status.DISABLED, "disable", "connection_disabled"),
        (Status.VALID, "enable", "connection_not_disabled"),
        (Status.DRAFT, "enable", "connection_not_disabled"),
        (Status.DISABLED, "edit", "connection_disabled"),
        (Status.DISABLED, "validate", "connection_disabled"),
        ("incomplete", "validate", "draft_incomplete"),
    ],
)
def test_the_api_and_the_page_refuse_the_same_transitions_alike(
    api: Any, owner: Any, organization: Organization, state: str, transition: str, code: str
) -> None:
    connection = connection_in(organization, owner, state)
    before = snapshot(connection)
    verb, tail, api_body, page_name, page_body = REQUESTS[transition]

    path = f"/api/v1/organizations/{organization.name}/connections/{connection.name}/" + (f"{tail}/" if tail else "")
    answer = getattr(api(owner), verb)(path, api_body, format="json")
    assert_api_error(answer, 400, "status")
    refusal = answer.json()
    assert refusal["error"] == code
    assert refusal["fields"]["status"] == [refusal["message"]]
    assert snapshot(connection) == before

    page = client_for(owner).post(reverse(page_name, args=[organization.name, connection.name]), page_body, follow=True)
    assert page.status_code == 200
    assert escape(refusal["message"]) in page.content.decode()
    assert snapshot(connection) == before


def test_opening_the_edit_form_of_a_disabled_connection_says_why_it_cannot_change(
    owner: Any, organization: Organization
) -> None:
    connection = connection_in(organization, owner, Status.DISABLED)
    page = client_for(owner).get(reverse("connection_details", args=[organization.name, connection.name]), follow=True)
    assert page.redirect_chain[-1][0] == reverse("connection", args=[organization.name, connection.name])
    assert escape(lifecycle.DISABLED_NO_EDITS) in page.content.decode()


def test_the_domain_refuses_editing_a_disabled_connection(organization: Organization, owner: Any) -> None:
    connection = connection_in(organization, owner, Status.DISABLED)
    before = snapshot(connection)
    with pytest.raises(lifecycle.LifecycleRefused) as refused:
        lifecycle.update_connection(connection, values=VALID_INPUTS[Method.AWS_ACCESS_KEYS], name="renamed")
    assert (refused.value.field, refused.value.code) == ("status", "connection_disabled")
    assert snapshot(connection) == before
