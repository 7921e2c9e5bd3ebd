"""The wizard's instructions name this connection's own subject, never one shared by every organization."""

from __future__ import annotations

import json
from typing import Any

from django.utils.html import escape

from connections.drafts import start_draft
from connections.instructions import PLACEHOLDER_ACCOUNT, for_connection
from connections.methods import Method
from connections.providers.identity import workload_subject
from portal.tenancy.changes import create_organization
from portal.tenancy.models import Organization
from tests.pages_support import client_for


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


def test_direct_iam_names_each_organizations_own_account(organization: Organization, owner: Any, settings: Any) -> None:
    settings.SPACEPORT_GCP_SERVICE_ACCOUNT_POOL = [
        "pool-1@spaceport-prod.iam.gserviceaccount.com",
        "pool-2@spaceport-prod.iam.gserviceaccount.com",
    ]
    other = create_organization(name="globex", owner=owner)
    ours = start_draft(organization, Method.GCP_DIRECT_IAM, created_by=owner)
    theirs = start_draft(other, Method.GCP_DIRECT_IAM, created_by=owner)
    commands = [for_connection(c)[0].body for c in (ours, theirs, ours)]
    assert "--member=serviceAccount:pool-1@spaceport-prod.iam.gserviceaccount.com" in commands[0]
    assert "--member=serviceAccount:pool-2@spaceport-prod.iam.gserviceaccount.com" in commands[1]
    assert commands[2] == commands[0]


def test_direct_iam_without_accounts_says_the_operator_must_set_them_up(
    organization: Organization, owner: Any, settings: Any
) -> None:
    settings.SPACEPORT_GCP_SERVICE_ACCOUNT_POOL = []
    settings.SPACEPORT_GCP_PROJECT = ""
    draft = start_draft(organization, Method.GCP_DIRECT_IAM, created_by=owner)
    html = client_for(owner).get(f"/o/acme/connections/{draft.name}/setup/").content.decode()
    assert "has not finished setting up its identity" in html
    assert escape(PLACEHOLDER_ACCOUNT) in html


def test_setup_page_shows_the_issuer_audience_and_subject(
    organization: Organization, owner: Any, settings: Any
) -> None:
    settings.SPACEPORT_OIDC_ISSUER_URL = "https://spaceport.example.com"
    draft = start_draft(organization, Method.AWS_WEB_IDENTITY, created_by=owner)
    html = client_for(owner).get(f"/o/acme/connections/{draft.name}/setup/").content.decode()
    assert '<code id="identity-1">https://spaceport.example.com</code>' in html
    assert '<code id="identity-2">sts.amazonaws.com</code>' in html
    assert f'<code id="identity-3">{workload_subject(draft)}</code>' in html
    assert "has not finished" not in html
