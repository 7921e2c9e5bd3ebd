"""The policy pages: the list, the editor that names the statement at fault, and the simulator."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from accessgrants.models import IdentityPolicy, PolicyAttachment
from portal.tenancy.models import Space

GOOD = {
    "Version": "2012-10-17",
    "Statement": [
        {"Sid": "ReadRaw", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "acme-raw/*"},
        {"Sid": "NoSecrets", "Effect": "Deny", "Action": "s3:*", "Resource": "acme-raw/secret/*"},
    ],
}
BAD = {"Version": "2012-10-17", "Statement": [GOOD["Statement"][0], {**GOOD["Statement"][0], "Action": "s3:Fetch"}]}


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def policy(space: Space, member: Any) -> IdentityPolicy:
    found = IdentityPolicy.objects.create(organization=space.organization, name="read-raw", document=GOOD)
    PolicyAttachment.objects.create(policy=found, user=member)
    return found


def test_the_owner_creates_a_policy_on_the_page(space: Space, owner: Any) -> None:
    client = signed_in(owner)
    page = client.get("/o/acme/policies/")
    assert page.status_code == 200
    assert "acme-raw" in page.content.decode()  # the example names one of the organization's buckets
    response = client.post("/o/acme/policies/", {"name": "read-raw", "document": json.dumps(GOOD)})
    assert response.status_code == 302
    assert response["Location"] == "/o/acme/policies/read-raw/"
    assert IdentityPolicy.objects.get(name="read-raw").created_by == owner


def test_the_editor_names_the_statement_at_fault_and_keeps_the_text(policy: IdentityPolicy, owner: Any) -> None:
    text = json.dumps(BAD, indent=2)
    response = signed_in(owner).post("/o/acme/policies/read-raw/", {"name": "read-raw", "document": text})
    assert response.status_code == 400
    body = response.content.decode()
    assert "Statement[2].Action: unknown action s3:Fetch" in body
    assert "s3:Fetch" in body.split('name="document"')[1]  # the text is kept for correcting
    policy.refresh_from_db()
    assert (policy.document, policy.version) == (GOOD, 1)


def test_the_editor_saves_a_new_version(policy: IdentityPolicy, owner: Any) -> None:
    changed = {"Version": "2012-10-17", "Statement": [GOOD["Statement"][0]]}
    response = signed_in(owner).post(
        "/o/acme/policies/read-raw/", {"name": "read-raw", "document": json.dumps(changed)}
    )
    assert response.status_code == 302
    policy.refresh_from_db()
    assert (policy.document, policy.version) == (changed, 2)


def test_attach_detach_and_delete_on_the_page(policy: IdentityPolicy, owner: Any, member: Any, outsider: Any) -> None:
    client = signed_in(owner)
    response = client.post("/o/acme/policies/read-raw/attach/", {"user": "outsider@example.com"})
    assert response.status_code == 400
    assert "does not belong to the organization acme" in response.content.decode()
    assert client.post("/o/acme/policies/read-raw/detach/", {"user": "member@example.com"}).status_code == 302
    assert not PolicyAttachment.objects.exists()
    assert client.post("/o/acme/policies/read-raw/attach/", {"user": "member@example.com"}).status_code == 302
    assert PolicyAttachment.objects.get().user == member
    assert client.post("/o/acme/policies/read-raw/delete/").status_code == 302
    assert not IdentityPolicy.objects.exists()


def test_the_simulator_page_explains_an_allow_and_a_deny(policy: IdentityPolicy, owner: Any) -> None:
    client = signed_in(owner)
    question = {"user": "member@example.com", "action": "s3:GetObject", "secure": "on"}
    allowed = client.get("/o/acme/simulate/", {**question, "resource": "acme-raw/in/a.csv"}).content.decode()
    assert 'data-decision="allow"' in allowed
    assert "allowed by read-raw statement 1 (ReadRaw)" in allowed
    denied = client.get("/o/acme/simulate/", {**question, "resource": "acme-raw/secret/a.csv"}).content.decode()
    assert 'data-decision="deny"' in denied
    assert "denied by read-raw statement 2 (NoSecrets)" in denied
    nothing = client.get("/o/acme/simulate/", {**question, "action": "s3:DeleteObject", "resource": "acme-raw/a"})
    assert "no statement allowed it" in nothing.content.decode()
    elsewhere = client.get("/o/acme/simulate/", {**question, "resource": "globex-shipments/a"}).content.decode()
    assert "is no bucket of the organization acme" in elsewhere


def test_the_simulator_page_shows_a_table_for_a_space(policy: IdentityPolicy, owner: Any) -> None:
    question = {"table-user": "member@example.com", "table-space": "raw"}
    body = signed_in(owner).get("/o/acme/simulate/", question).content.decode()
    assert '<tr data-action="s3:PutObject" data-decision="allow">' in body  # the member supplies raw
    assert '<tr data-action="s3:DeleteObject" data-decision="deny">' in body


def test_the_simulator_page_asks_by_access_key(policy: IdentityPolicy, owner: Any, member: Any, outsider: Any) -> None:
    from accessgrants.accesskeys import deactivate_key, issue_key
    from portal.tenancy.changes import create_organization

    key = issue_key(member, policy.organization).key
    client = signed_in(owner)
    question = {"access_key": key.access_key_id, "action": "s3:GetObject", "resource": "acme-raw/in/a.csv"}
    assert "allowed by read-raw statement 1 (ReadRaw)" in client.get("/o/acme/simulate/", question).content.decode()
    table = {"table-access_key": key.access_key_id, "table-space": "raw"}
    assert (
        '<tr data-action="s3:PutObject" data-decision="allow">'
        in client.get("/o/acme/simulate/", table).content.decode()
    )
    deactivate_key(key.pk)
    denied = client.get("/o/acme/simulate/", question).content.decode()
    assert 'data-decision="deny"' in denied and "the key is inactive" in denied
    other = issue_key(outsider, create_organization(name="globex", display_name="Globex", owner=outsider)).key
    elsewhere = client.get("/o/acme/simulate/", {**question, "access_key": other.access_key_id}).content.decode()
    assert f"The organization acme has no access key {other.access_key_id}." in elsewhere
    assert 'id="decision"' not in elsewhere
    both = client.get("/o/acme/simulate/", {**question, "user": "member@example.com"}).content.decode()
    assert "Name the person or the access key, not both." in both


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", "/o/acme/policies/"),
        ("post", "/o/acme/policies/"),
        ("get", "/o/acme/policies/read-raw/"),
        ("post", "/o/acme/policies/read-raw/"),
        ("post", "/o/acme/policies/read-raw/attach/"),
        ("post", "/o/acme/policies/read-raw/detach/"),
        ("post", "/o/acme/policies/read-raw/delete/"),
        ("get", "/o/acme/simulate/"),
    ],
)
def test_only_those_who_run_the_organization_reach_the_pages(
    policy: IdentityPolicy, member: Any, outsider: Any, platform_admin: Any, method: str, url: str
) -> None:
    form = {"name": "taken", "document": json.dumps(GOOD), "user": "member@example.com"}
    before = (list(IdentityPolicy.objects.values()), list(PolicyAttachment.objects.values()))
    assert getattr(signed_in(member), method)(url, form).status_code == 403
    assert getattr(signed_in(outsider), method)(url, form).status_code == 404
    assert (list(IdentityPolicy.objects.values()), list(PolicyAttachment.objects.values())) == before
    if method == "get":
        assert signed_in(platform_admin).get(url).status_code == 200


def test_the_organization_page_links_to_policies_for_its_admins(space: Space, owner: Any, member: Any) -> None:
    assert "/o/acme/policies/" in signed_in(owner).get("/o/acme/").content.decode()
    assert "/o/acme/policies/" not in signed_in(member).get("/o/acme/").content.decode()
