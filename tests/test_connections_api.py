"""The connections API: who may manage connections, write-only secrets, validation on commit."""

from __future__ import annotations

import json
from typing import Any

import pytest
from celery.signals import before_task_publish

from connections.active import active_connection
from connections.models import CloudConnection, Status
from portal.audit.models import AuditEvent
from portal.tenancy.models import Organization
from tests.connection_inputs import VALID_INPUTS
from tests.dispatching import sent_by

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYSPACEPORTSECRET"


def url(org: str = "acme", name: str = "", tail: str = "") -> str:
    base = f"/api/v1/organizations/{org}/connections/"
    return base + (f"{name}/" if name else "") + (f"{tail}/" if tail else "")


def body(name: str = "primary", method: str = "aws_access_keys", **values: Any) -> dict[str, Any]:
    return {"name": name, "method": method, "values": {**VALID_INPUTS[method], **values}}


@pytest.fixture
def published() -> Any:
    """Every task message sent while the test runs (the broker is the real Redis)."""
    messages: list[dict[str, Any]] = []

    def capture(sender: str | None = None, body: Any = None, headers: Any = None, **kwargs: Any) -> None:
        messages.append({"task": sender, "body": body, "headers": headers})

    before_task_publish.connect(capture, weak=False)
    yield messages
    before_task_publish.disconnect(capture)


def test_owners_create_a_connection_and_validation_is_enqueued_on_commit(
    api: Any,
    owner: Any,
    organization: Organization,
    published: list[dict[str, Any]],
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = api(owner).post(url(), body(secret_access_key=SECRET), format="json")
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["status"] == Status.VALIDATING
    assert data["secret_fields_set"] == ["secret_access_key"]
    assert data["config"]["bucket"] == "acme-data"
    assert SECRET not in json.dumps(data)
    assert sent_by(callbacks) == ["connections.tasks.validate_connection"]
    connection = CloudConnection.objects.get(name="primary")
    assert [m["task"] for m in published] == ["connections.tasks.validate_connection"]
    assert list(published[0]["body"][0]) == [connection.pk]
    assert SECRET not in json.dumps(published, default=str)
    organization.refresh_from_db()
    assert active_connection(organization) == connection


def test_a_cross_account_role_gets_a_generated_external_id_that_cannot_be_set(
    api: Any, owner: Any, organization: Organization
) -> None:
    response = api(owner).post(
        url(), {**body(method="aws_cross_account_role"), "external_id": "chosen-by-me"}, format="json"
    )
    assert response.status_code == 201
    external_id = response.json()["external_id"]
    assert external_id.startswith("spaceport-") and len(external_id) >= 10 + 32
    assert external_id != "chosen-by-me"
    other = api(owner).post(url(), body(name="second", method="aws_cross_account_role"), format="json").json()
    assert other["external_id"] != external_id
    changed = api(owner).patch(url(name="primary"), {"external_id": "chosen-by-me"}, format="json")
    assert changed.status_code == 200
    assert CloudConnection.objects.get(name="primary").external_id == external_id


def test_bad_input_names_the_field_and_saves_nothing(api: Any, owner: Any, organization: Organization) -> None:
    response = api(owner).post(url(), body(role_arn="nope", method="aws_cross_account_role"), format="json")
    assert response.status_code == 400
    assert "values.role_arn" in response.json()["fields"]
    response = api(owner).post(url(), {"name": "x", "method": "carrier_pigeon"}, format="json")
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"name", "method"}
    response = api(owner).post(url(), body(name="Bad Name"), format="json")
    assert "name" in response.json()["fields"]
    assert not CloudConnection.objects.exists()


def test_a_duplicate_name_is_refused(api: Any, owner: Any, organization: Organization) -> None:
    assert api(owner).post(url(), body(), format="json").status_code == 201
    response = api(owner).post(url(), body(), format="json")
    assert response.status_code == 400
    assert "name" in response.json()["fields"]
    assert CloudConnection.objects.count() == 1


def test_an_edit_without_the_secret_keeps_it(api: Any, owner: Any, organization: Organization) -> None:
    api(owner).post(url(), body(secret_access_key=SECRET), format="json")
    values = {k: v for k, v in VALID_INPUTS["aws_access_keys"].items() if k != "secret_access_key"}
    response = api(owner).patch(url(name="primary"), {"values": {**values, "bucket": "other-bucket"}}, format="json")
    assert response.status_code == 200, response.json()
    connection = CloudConnection.objects.get(name="primary")
    assert connection.config["bucket"] == "other-bucket"
    assert connection.secret == {"secret_access_key": SECRET}


def test_members_and_outsiders_may_not_see_or_manage_connections(
    api: Any, owner: Any, member: Any, outsider: Any, space: Any
) -> None:
    api(owner).post(url(), body(), format="json")
    assert api(member).get(url()).status_code == 403
    assert api(member).post(url(), body(name="mine"), format="json").status_code == 403
    assert api(member).post(url(name="primary", tail="disable")).status_code == 403
    assert api(outsider).get(url()).status_code == 404
    assert api(outsider).post(url(), body(name="mine"), format="json").status_code == 404
    assert CloudConnection.objects.count() == 1
    assert AuditEvent.objects.filter(outcome="denied", action__startswith="cloudconnection").count() >= 3


def test_validate_answers_202_with_a_status_url(api: Any, owner: Any, organization: Organization) -> None:
    api(owner).post(url(), {**body(), "validate_now": False}, format="json")
    assert CloudConnection.objects.get().status == Status.DRAFT
    response = api(owner).post(url(name="primary", tail="validate"))
    assert response.status_code == 202
    assert response["Location"] == url(name="primary", tail="report")
    assert response.json()["status_url"] == url(name="primary", tail="report")
    report = api(owner).get(url(name="primary", tail="report")).json()
    assert report["status"] == Status.VALIDATING


def test_disable_and_enable(api: Any, owner: Any, organization: Organization) -> None:
    api(owner).post(url(), body(), format="json")
    assert api(owner).post(url(name="primary", tail="disable")).json()["status"] == Status.DISABLED
    assert api(owner).post(url(name="primary", tail="validate")).status_code == 400
    assert api(owner).patch(url(name="primary"), {"name": "renamed"}, format="json").status_code == 400
    assert api(owner).post(url(name="primary", tail="enable")).status_code == 202
    assert CloudConnection.objects.get().status == Status.VALIDATING


def test_the_method_catalogue_lists_every_method_with_its_risk(api: Any, member: Any) -> None:
    methods = api(member).get("/api/v1/connection-methods/").json()
    assert {m["method"] for m in methods} == set(VALID_INPUTS)
    cross = next(m for m in methods if m["method"] == "aws_cross_account_role")
    assert cross["uses_external_id"] is True
    assert {m["method"] for m in methods if m["uses_spaceport_subject"]} == {
        "aws_web_identity",
        "gcp_workload_identity",
    }
    assert "confused deputy" in cross["risk"]
    keys = next(m for m in methods if m["method"] == "aws_access_keys")
    assert {i["name"] for i in keys["inputs"] if i["secret"]} == {"secret_access_key"}


def test_instructions_fill_in_the_external_id_principal_and_bucket(
    api: Any, owner: Any, organization: Organization, settings: Any
) -> None:
    settings.SPACEPORT_AWS_PRINCIPAL_ARN = "arn:aws:iam::999999999999:role/spaceport"
    created = api(owner).post(url(), body(method="aws_cross_account_role"), format="json").json()
    steps = api(owner).get(url(name="primary", tail="instructions")).json()
    trust = json.loads(steps[0]["body"])
    statement = trust["Statement"][0]
    assert statement["Principal"] == {"AWS": "arn:aws:iam::999999999999:role/spaceport"}
    assert statement["Condition"] == {"StringEquals": {"sts:ExternalId": created["external_id"]}}
    permissions = json.loads(steps[1]["body"])
    assert permissions["Statement"][0]["Condition"] == {"StringLike": {"s3:prefix": ["spaceport/*"]}}
    assert permissions["Statement"][1]["Resource"] == "arn:aws:s3:::acme-data/spaceport/*"
