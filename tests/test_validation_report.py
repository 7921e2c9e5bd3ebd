"""What the validation page tells a person: when a retry comes and how long retries last, never an old
run's report after new details, what to do once the connection works, and a trust policy that cannot
be pasted yet because the operator has not named Spaceport's AWS account."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from connections import lifecycle, retrying
from connections.drafts import start_draft
from connections.methods import Method
from connections.models import CloudConnection, Status
from connections.probe import validate
from portal.tenancy.models import Organization
from tests.emulators import free_port
from tests.pages_support import client_for


def _report_url(connection: CloudConnection) -> str:
    return reverse("connection_report", args=[connection.organization.name, connection.name])


def _unreachable_values() -> dict[str, Any]:
    return {
        "endpoint": f"http://127.0.0.1:{free_port()}",
        "bucket": "acme-data",
        "access_key_id": "AKIDEXAMPLE",
        "secret_access_key": "not-used-anywhere",
    }


def _unreachable(organization: Organization) -> CloudConnection:
    return lifecycle.create_connection(
        organization, name="far", method=Method.S3_STATIC_KEYS, values=_unreachable_values(), validate=False
    )


def test_the_retry_schedule_is_the_one_the_task_follows() -> None:
    assert [retrying.delay_after(n) for n in range(retrying.MAX_RETRIES)] == [10, 20, 40, 80]
    assert retrying.window_seconds() == 150
    assert retrying.describe_seconds(150) == "2 min 30 s"


def test_a_retry_says_which_try_it_was_when_the_next_is_and_how_long_retries_last(
    owner: Any, organization: Organization
) -> None:
    connection = _unreachable(organization)
    before = timezone.now()
    assert validate(connection, final=False, retries_so_far=1) == (Status.INVALID, True)
    after = timezone.now()  # trying an unreachable store takes seconds on a busy machine
    connection.refresh_from_db()
    plan = connection.validation_report["retry"]
    assert (plan["attempt"], plan["attempts"]) == (2, 5)
    next_try_at = parse_datetime(plan["next_try_at"])
    gives_up_at = parse_datetime(plan["gives_up_at"])
    assert next_try_at and gives_up_at
    assert before + timedelta(seconds=19) <= next_try_at <= after + timedelta(seconds=21)
    assert before + timedelta(seconds=139) <= gives_up_at <= after + timedelta(seconds=141)

    html = client_for(owner).get(_report_url(connection)).content.decode()
    text = re.sub(r"<[^>]+>", "", html)
    assert "Try 2 of 5 could not reach the storage." in text
    seconds = int(re.search(r"The next try is in (\d+) s, at", text).group(1))  # type: ignore[union-attr]
    assert 15 <= seconds <= 20
    assert "keeps trying for 2 min 30 s in all" in text
    assert f'datetime="{gives_up_at.isoformat()}"' in html or "at the latest" in text
    assert "in a moment" not in text


def test_new_details_during_a_retry_show_the_new_run_not_the_old_report(owner: Any, organization: Organization) -> None:
    connection = _unreachable(organization)
    validate(connection, final=False)
    connection.refresh_from_db()
    client = client_for(owner)
    assert "Retrying" in client.get(_report_url(connection)).content.decode()

    lifecycle.update_connection(connection, values=_unreachable_values(), validate=True)
    html = client.get(_report_url(connection)).content.decode()
    assert "Retrying" not in html
    assert "could not reach" not in html
    assert "Waiting for a worker" in html, "no worker runs in this test"
    assert re.findall(r'data-state="(\w+)"', html) == ["pending"] * 5


def test_a_working_connection_points_to_the_next_steps(owner: Any, organization: Organization) -> None:
    connection = _unreachable(organization)
    CloudConnection.objects.filter(pk=connection.pk).update(
        status=Status.VALID,
        status_message="Every operation succeeded.",
        validation_report={"checked_at": timezone.now().isoformat(), "status": "valid", "checks": []},
    )
    html = client_for(owner).get(_report_url(connection)).content.decode()
    assert f'href="{reverse("organization", args=["acme"])}#new-space">Create a space</a>' in html
    assert f'href="{reverse("organization", args=["acme"])}">Open acme</a>' in html
    CloudConnection.objects.filter(pk=connection.pk).update(status=Status.INVALID)
    assert "Create a space" not in client_for(owner).get(_report_url(connection)).content.decode()


def test_the_trust_policy_says_when_the_operator_has_not_named_spaceports_aws_account(
    owner: Any, organization: Organization, settings: Any
) -> None:
    settings.SPACEPORT_AWS_ACCOUNT_ID = ""
    settings.SPACEPORT_AWS_PRINCIPAL_ARN = ""
    draft = start_draft(organization, Method.AWS_CROSS_ACCOUNT_ROLE, created_by=owner)
    setup = reverse("connection_setup", args=["acme", draft.name])
    html = client_for(owner).get(setup).content.decode()
    assert "&lt;spaceport-account-id&gt;" in html
    note = re.search(r'id="operator-settings-missing">(.*?)</p>', html, re.S)
    assert note, "no note about the unset operator setting"
    assert "SPACEPORT_AWS_ACCOUNT_ID" in note.group(1)
    assert "SPACEPORT_AWS_PRINCIPAL_ARN" in note.group(1)

    settings.SPACEPORT_AWS_ACCOUNT_ID = "123456789012"
    html = client_for(owner).get(setup).content.decode()
    assert "arn:aws:iam::123456789012:root" in html
    assert "operator-settings-missing" not in html
