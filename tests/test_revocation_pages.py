"""The disable page says what disabling revokes and how long the rest stays valid, with the configured
lifetimes; for AWS it shows the role's "Revoke active sessions" step. No storage is reached here: the
page only describes, and the revocation itself is tested against Azurite in test_space_storage."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from connections.methods import spec_for
from connections.models import CloudConnection, Status
from connections.revocation import revocability, span
from portal.tenancy.models import Organization
from tests.conftest import PASSWORD
from tests.dispatching import sent_by

ROLE_ARN = "arn:aws:iam::123456789012:role/data/SpaceportAccess"


def connection_of(organization: Organization, method: str, config: dict[str, Any], secret: Any = None) -> Any:
    return CloudConnection.objects.create(
        organization=organization,
        name=method.replace("_", "-")[:40],
        provider=spec_for(method).provider,
        method=method,
        config=config,
        secret=secret,
        status=Status.VALID,
    )


def signed_in(user: Any) -> Client:
    browser = Client()
    assert browser.login(username=user.email, password=PASSWORD)
    return browser


def page_url(connection: CloudConnection) -> str:
    return f"/o/{connection.organization.name}/connections/{connection.name}/disable/"


@pytest.mark.parametrize(
    ("minutes", "said"), [(720, "12 hours"), (60, "1 hour"), (90, "90 minutes"), (30, "30 minutes")]
)
def test_lifetimes_are_said_plainly(minutes: int, said: str) -> None:
    assert span(minutes) == said


def test_the_aws_disable_page_shows_the_revoke_sessions_step(
    organization: Organization, owner: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.SPACEPORT_CREDENTIAL_MAX_LIFETIME_MINUTES = {"read": 720, "write": 240, "delete": 60}
    connection = connection_of(
        organization, "aws_cross_account_role", {"role_arn": ROLE_ARN, "bucket": "b", "region": "eu-west-1"}
    )
    browser = signed_in(owner)
    page = browser.get(page_url(connection)).content.decode()
    assert "cannot be recalled by Spaceport" in page
    assert "at most 12 hours for reading, 4 hours for writing and 1 hour for deleting" in page
    assert "IAM &gt; Roles &gt; SpaceportAccess &gt; Revoke sessions &gt; Revoke active sessions" in page
    assert "aws iam put-role-policy --role-name SpaceportAccess --policy-name AWSRevokeOlderSessions" in page
    step = revocability(connection).steps[0].command
    document = json.loads(step.split("--policy-document '", 1)[1].rstrip("'"))
    statement = document["Statement"][0]
    assert (statement["Effect"], statement["Action"], statement["Resource"]) == ("Deny", ["*"], ["*"])
    assert set(statement["Condition"]["DateLessThan"]) == {"aws:TokenIssueTime"}
    connection.refresh_from_db()
    assert connection.status == Status.VALID, "asking changes nothing"

    with django_capture_on_commit_callbacks(execute=False) as enqueued:
        answer = browser.post(page_url(connection), follow=True)
    connection.refresh_from_db()
    assert connection.status == Status.DISABLED
    assert "connections.tasks.revoke_connection_credentials" in sent_by(enqueued)
    said = answer.content.decode()
    assert "is disabled" in said and "cannot be recalled by Spaceport" in said


def test_the_azure_disable_page_says_what_is_revoked_at_once_and_what_is_not(
    organization: Organization, owner: Any, settings: Any
) -> None:
    settings.SPACEPORT_CREDENTIAL_MAX_LIFETIME_MINUTES = {"read": 600, "write": 120, "delete": 30}
    key = connection_of(
        organization,
        "azure_connection_string",
        {},
        {"connection_string": "AccountName=acct;AccountKey=a2V5;EndpointSuffix=core.windows.net"},
    )
    page = signed_in(owner).get(page_url(key)).content.decode()
    assert "stops working at once" in page and "within 30 seconds" in page

    principal = connection_of(
        organization,
        "azure_service_principal",
        {"account_url": "https://acct.blob.core.windows.net", "tenant_id": "t", "client_id": "c"},
        {"client_secret": "s"},
    )
    page = signed_in(owner).get(page_url(principal)).content.decode()
    assert "cannot be issued under stored access policies" in page
    assert "at most 10 hours for reading, 2 hours for writing and 30 minutes for deleting" in page
    assert "az storage account revoke-delegation-keys --name acct" in page


def test_gcs_and_presigned_say_their_limits(organization: Organization, settings: Any) -> None:
    settings.SPACEPORT_CREDENTIAL_MAX_LIFETIME_MINUTES = {"read": 720, "write": 240, "delete": 60}
    gcs = revocability(connection_of(organization, "gcp_direct_iam", {"bucket": "b"}))
    assert not gcs.revoked_at_once and "at most 1 hour" in gcs.summary
    presigned = revocability(connection_of(organization, "s3_static_keys", {"bucket": "b"}))
    assert not presigned.revoked_at_once and "at most 12 hours for reading" in presigned.summary


def test_only_admins_see_the_disable_page(organization: Organization, member: Any, space: Any) -> None:
    connection = connection_of(organization, "gcp_direct_iam", {"bucket": "b"})
    assert signed_in(member).get(page_url(connection)).status_code in (403, 404)
    assert signed_in(member).post(page_url(connection)).status_code in (403, 404)
    connection.refresh_from_db()
    assert connection.status == Status.VALID


def test_a_draft_or_disabled_connection_has_nothing_to_disable(organization: Organization, owner: Any) -> None:
    connection = connection_of(organization, "gcp_direct_iam", {"bucket": "b"})
    browser = signed_in(owner)
    for state, said in ((Status.DRAFT, "there is nothing to disable"), (Status.DISABLED, "already disabled")):
        CloudConnection.objects.filter(pk=connection.pk).update(status=state)
        page = browser.get(page_url(connection))
        assert page.status_code == 200 and said in page.content.decode()
        assert 'type="submit">Disable connection' not in page.content.decode()
        assert browser.post(page_url(connection)).status_code == 302
        connection.refresh_from_db()
        assert connection.status == state
