"""The wizard's instructions name this connection's own subject, never one shared by every organization."""

from __future__ import annotations

import json
from typing import Any

from connections.drafts import start_draft
from connections.instructions import for_connection
from connections.methods import Method
from connections.providers.identity import workload_subject
from portal.models import Organization
from portal.tenancy import create_organization


def test_aws_trust_policy_pins_the_issuer_audience_and_this_connections_subject(
    organization: Organization, owner: Any, settings: Any
) -> None:
    settings.SPACEPORT_OIDC_ISSUER_URL = "https://spaceport.example.com"
    draft = start_draft(organization, Method.AWS_WEB_IDENTITY, created_by=owner)
    steps = for_connection(draft)
    assert steps[0].body == (
        "aws iam create-open-id-connect-provider --url https://spaceport.example.com --client-id-list sts.amazonaws.com"
    )
    statement = json.loads(steps[1].body)["Statement"][0]
    assert statement["Principal"] == {"Federated": "arn:aws:iam::<your-account-id>:oidc-provider/spaceport.example.com"}
    assert statement["Condition"] == {
        "StringEquals": {
            "spaceport.example.com:aud": "sts.amazonaws.com",
            "spaceport.example.com:sub": f"organization/acme/connection/{draft.external_id}",
        }
    }


def test_two_organizations_are_told_different_subjects(organization: Organization, owner: Any) -> None:
    other = create_organization(name="globex", owner=owner)
    ours = start_draft(organization, Method.AWS_WEB_IDENTITY, created_by=owner)
    theirs = start_draft(other, Method.AWS_WEB_IDENTITY, created_by=owner)
    conditions = [json.loads(for_connection(c)[1].body)["Statement"][0]["Condition"] for c in (ours, theirs)]
    assert conditions[0] != conditions[1]


def test_gcp_attribute_condition_and_principal_name_this_connection(
    organization: Organization, owner: Any, settings: Any
) -> None:
    settings.SPACEPORT_OIDC_ISSUER_URL = "https://spaceport.example.com"
    draft = start_draft(organization, Method.GCP_WORKLOAD_IDENTITY, created_by=owner)
    subject = workload_subject(draft)
    pool, impersonate, _, cred_config = (step.body for step in for_connection(draft))
    assert "--issuer-uri=https://spaceport.example.com" in pool
    assert f"--attribute-condition=\"assertion.sub == '{subject}'\"" in pool
    assert f"workloadIdentityPools/spaceport/subject/{subject}" in impersonate
    assert "roles/iam.workloadIdentityUser" in impersonate
    assert "create-cred-config" in cred_config


def test_the_shared_external_source_is_shown_as_configured(
    organization: Organization, owner: Any, settings: Any
) -> None:
    settings.SPACEPORT_WEB_IDENTITY_SOURCE = "external"
    settings.SPACEPORT_WEB_IDENTITY_ISSUER = "https://idp.example.com/realms/spaceport"
    settings.SPACEPORT_WEB_IDENTITY_SUBJECT = "service-account-spaceport"
    draft = start_draft(organization, Method.AWS_WEB_IDENTITY, created_by=owner)
    condition = json.loads(for_connection(draft)[1].body)["Statement"][0]["Condition"]["StringEquals"]
    assert condition["idp.example.com/realms/spaceport:sub"] == "service-account-spaceport"
