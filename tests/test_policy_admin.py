"""Identity policies in the admin: refused as the API refuses them, versions and attachments kept."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from accessgrants.models import IdentityPolicy, PolicyAttachment
from portal.audit.models import AuditEvent
from portal.tenancy.models import Organization, Space

GOOD = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "acme-raw/*"}]}


@pytest.fixture
def admin_client(platform_admin: Any) -> Client:
    client = Client()
    client.force_login(platform_admin)
    return client


def form(organization: Organization, document: Any, **extra: Any) -> dict[str, Any]:
    return {
        "organization": organization.pk,
        "name": "read-raw",
        "description": "",
        "document": document if isinstance(document, str) else json.dumps(document),
        "attachments-TOTAL_FORMS": "0",
        "attachments-INITIAL_FORMS": "0",
        **extra,
    }


def test_a_policy_that_would_not_work_is_refused_at_its_statement(admin_client: Client, space: Space) -> None:
    bad = {"Version": "2012-10-17", "Statement": [GOOD["Statement"][0], {**GOOD["Statement"][0], "Action": "s3:Fetch"}]}
    response = admin_client.post(reverse("admin:accessgrants_identitypolicy_add"), form(space.organization, bad))
    assert response.status_code == 200
    assert "Statement[2].Action: unknown action s3:Fetch" in response.content.decode()
    response = admin_client.post(reverse("admin:accessgrants_identitypolicy_add"), form(space.organization, "{"))
    assert "Policy: not valid JSON" in response.content.decode()
    wildcard = {"Version": "2012-10-17", "Statement": [{**GOOD["Statement"][0], "Resource": "*"}]}
    response = admin_client.post(reverse("admin:accessgrants_identitypolicy_add"), form(space.organization, wildcard))
    assert "every organization" in response.content.decode()
    assert not IdentityPolicy.objects.exists()


def test_a_policy_saved_in_the_admin_is_audited_and_versioned(
    admin_client: Client, space: Space, platform_admin: Any, member: Any
) -> None:
    response = admin_client.post(reverse("admin:accessgrants_identitypolicy_add"), form(space.organization, GOOD))
    assert response.status_code == 302, response.content.decode()[:2000]
    policy = IdentityPolicy.objects.get(name="read-raw")
    assert (policy.document, policy.version, policy.created_by) == (GOOD, 1, platform_admin)
    assert AuditEvent.objects.filter(action="identitypolicy.create", actor=platform_admin).exists()
    changed = {"Version": "2012-10-17", "Statement": [{**GOOD["Statement"][0], "Action": "s3:Get*"}]}
    attach = {
        "attachments-TOTAL_FORMS": "1",
        "attachments-0-user": member.pk,
        "attachments-0-group": "",
        "attachments-0-policy": policy.pk,
    }
    url = reverse("admin:accessgrants_identitypolicy_change", args=[policy.pk])
    response = admin_client.post(url, form(space.organization, changed, **attach))
    assert response.status_code == 302, response.content.decode()[:2000]
    policy.refresh_from_db()
    assert (policy.document, policy.version) == (changed, 2)
    assert PolicyAttachment.objects.get(policy=policy).attached_by == platform_admin


def test_the_admin_attaches_only_within_the_organization(admin_client: Client, space: Space, outsider: Any) -> None:
    policy = IdentityPolicy.objects.create(organization=space.organization, name="read-raw", document=GOOD)
    attach = {
        "attachments-TOTAL_FORMS": "1",
        "attachments-0-user": outsider.pk,
        "attachments-0-group": "",
        "attachments-0-policy": policy.pk,
    }
    url = reverse("admin:accessgrants_identitypolicy_change", args=[policy.pk])
    response = admin_client.post(url, form(space.organization, GOOD, **attach))
    assert response.status_code == 200
    assert "does not belong to the organization acme" in response.content.decode()
    assert not PolicyAttachment.objects.exists()
