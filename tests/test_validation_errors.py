"""Every way a validation run can fail ends in 'invalid' with a message saying what to check.

Before, an error no provider explained (an SDK refusing a setting) escaped the task and left the
connection in 'validating' with an empty message, for ever. The task runs here in-process
(``apply``), exactly as a worker would run it.
"""

from __future__ import annotations

from typing import Any

from django.db import models

from connections import lifecycle
from connections.methods import Method
from connections.models import CloudConnection, Status
from connections.tasks import validate_connection
from portal.audit.models import AuditEvent
from portal.tenancy.models import Organization
from tests.connection_inputs import VALID_INPUTS

SECRET = VALID_INPUTS["aws_access_keys"]["secret_access_key"]


def keys_connection(organization: Organization) -> CloudConnection:
    connection = lifecycle.create_connection(
        organization, name="keys", method=Method.AWS_ACCESS_KEYS, values=VALID_INPUTS["aws_access_keys"], validate=False
    )
    CloudConnection.objects.filter(pk=connection.pk).update(status=Status.VALIDATING)
    return connection


def test_an_unexplained_error_ends_the_run_with_a_message(organization: Organization) -> None:
    connection = keys_connection(organization)
    broken = {key: value for key, value in connection.config.items() if key != "region"}
    CloudConnection.objects.filter(pk=connection.pk).update(config=broken)

    outcome: Any = validate_connection.apply(args=[connection.pk])

    assert outcome.result == Status.INVALID
    connection.refresh_from_db()
    assert connection.status == Status.INVALID
    assert "could not use this connection's settings (KeyError)" in connection.status_message
    assert connection.validation_report["checks"][0]["hint"].startswith("Check every field")
    assert SECRET not in connection.status_message
    assert AuditEvent.objects.filter(action="connection.validate", target_id=str(connection.pk)).exists()


def test_a_secret_that_cannot_be_decrypted_ends_the_run_with_a_message(organization: Organization) -> None:
    connection = keys_connection(organization)
    garbage = models.Value("gAAAAAB-not-a-token-any-key-made", output_field=models.TextField())
    CloudConnection.objects.filter(pk=connection.pk).update(secret=garbage)

    outcome: Any = validate_connection.apply(args=[connection.pk])

    assert outcome.result == Status.INVALID
    status, message = CloudConnection.objects.filter(pk=connection.pk).values_list("status", "status_message").get()
    assert status == Status.INVALID
    assert "cannot be decrypted with the configured encryption keys" in message
