"""Identity policies over REST: refused when they would not work, changed only by those who run the
organization, and simulated with the statements that decided."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Group

from accessgrants.models import IdentityPolicy, PolicyAttachment
from portal.audit.models import AuditEvent
from portal.tenancy.changes import create_organization, create_space
from portal.tenancy.grants import Grant, Role, Scope
from portal.tenancy.models import Organization, Space
from tests.conftest import assert_api_error

POLICIES = "/api/v1/organizations/acme/policies/"
SIMULATE = "/api/v1/organizations/acme/simulate/"
SIMULATE_SPACE = "/api/v1/organizations/acme/simulate/space/"

READ_RAW = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "ReadRaw",
            "Effect": "Allow",
            "Action": ["s3:Get*", "s3:ListBucket"],
            "Resource": ["acme-raw", "acme-raw/*"],
        },
        {"Sid": "NoSecrets", "Effect": "Deny", "Action": "s3:*", "Resource": "acme-raw/secret/*"},
    ],
}


def statement(**fields: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "acme-raw/*", **fields}


def with_second(second: dict[str, Any]) -> dict[str, Any]:
    """A policy whose second statement is the one under test, so the error must count statements."""
    return {"Version": "2012-10-17", "Statement": [statement(Sid="Fine"), second]}


@pytest.fixture
def globex(db: None) -> Organization:
    organization = create_organization(name="globex", display_name="Globex Logistics")
    create_space(organization, name="shipments")
    return organization


@pytest.fixture
def policy(space: Space, owner: Any) -> IdentityPolicy:
    return IdentityPolicy.objects.create(organization=space.organization, name="read-raw", document=READ_RAW)


@pytest.fixture
def analysts(space: Space) -> Group:
    """A group holding a role in acme, so acme's policies may be attached to it."""
    group = Group.objects.create(name="analysts")
    Grant.objects.create(group=group, scope=Scope.ORGANIZATION, role=Role.ACCESS, organization=space.organization)
    return group


def test_owner_creates_a_policy_and_it_is_audited(api: Any, space: Space, owner: Any) -> None:
    payload = {"name": "read-raw", "description": "Reading raw", "document": READ_RAW}
    response = api(owner).post(POLICIES, payload, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["name"], body["version"], body["created_by"], body["document"]) == (
        "read-raw",
        1,
        "owner@example.com",
        READ_RAW,
    )
    policy = IdentityPolicy.objects.get(organization=space.organization, name="read-raw")
    event = AuditEvent.objects.get(action="identitypolicy.create", target_id=str(policy.pk))
    assert (event.actor, event.organization) == (owner, space.organization)


def test_a_policy_given_as_json_text_is_stored_as_json(api: Any, space: Space, owner: Any) -> None:
    import json

    response = api(owner).post(POLICIES, {"name": "text", "document": json.dumps(READ_RAW)}, format="json")
    assert response.status_code == 201, response.content
    assert IdentityPolicy.objects.get(name="text").document == READ_RAW


@pytest.mark.parametrize(
    ("document", "where", "what"),
    [
        ('{"Version": "2012-10-17", "Statement": [', "Policy", "not valid JSON"),
        (with_second(statement(Action="s3:Fetch")), "Statement[2].Action", "unknown action s3:Fetch"),
        (with_second(statement(Condition={"StringSortOf": {"s3:prefix": "a"}})), "Statement[2].Condition", ""),
        (with_second(statement(Resource="globex-shipments/*")), "Statement[2].Resource", "globex"),
        (with_second(statement(Resource="arn:aws:s3:::*")), "Statement[2].Resource", "every organization"),
        (with_second(statement(Resource="*")), "Statement[2].Resource", "every organization"),
        (with_second(statement(Resource="acme-nosuchspace/*")), "Statement[2].Resource", "no space"),
    ],
    ids=["syntax", "unknown-action", "unknown-operator", "other-organization", "wildcard-arn", "wildcard", "no-space"],
)
def test_a_policy_that_would_not_work_is_refused_naming_statement_and_field(
    api: Any, space: Space, globex: Organization, owner: Any, document: Any, where: str, what: str
) -> None:
    response = api(owner).post(POLICIES, {"name": "bad", "document": document}, format="json")
    assert_api_error(response, 400, "document")
    message = response.json()["fields"]["document"][0]
    assert message.startswith(f"{where}:"), message
    assert what in message
    assert not IdentityPolicy.objects.exists()


def test_a_bad_change_leaves_the_policy_as_it_was(api: Any, policy: IdentityPolicy, owner: Any) -> None:
    response = api(owner).patch(
        f"{POLICIES}read-raw/", {"document": with_second(statement(Action="s3:Nope"))}, format="json"
    )
    assert_api_error(response, 400, "document")
    policy.refresh_from_db()
    assert (policy.document, policy.version) == (READ_RAW, 1)


def test_a_new_document_counts_up_the_version(api: Any, policy: IdentityPolicy, owner: Any) -> None:
    changed = with_second(statement(Sid="More", Action="s3:PutObject"))
    response = api(owner).patch(f"{POLICIES}read-raw/", {"document": changed}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["version"] == 2
    assert AuditEvent.objects.filter(action="identitypolicy.update", target_id=str(policy.pk)).exists()
    response = api(owner).patch(f"{POLICIES}read-raw/", {"description": "only words"}, format="json")
    assert response.json()["version"] == 2


def test_names_are_unique_in_an_organization(api: Any, policy: IdentityPolicy, owner: Any) -> None:
    response = api(owner).post(POLICIES, {"name": "read-raw", "document": READ_RAW}, format="json")
    assert_api_error(response, 400, "name")


def test_list_is_paginated_and_filters_by_name_and_attached_user(
    api: Any, policy: IdentityPolicy, owner: Any, member: Any
) -> None:
    IdentityPolicy.objects.create(organization=policy.organization, name="other", document=READ_RAW)
    PolicyAttachment.objects.create(policy=policy, user=member)
    client = api(owner)
    body = client.get(POLICIES).json()
    assert [p["name"] for p in body["results"]] == ["other", "read-raw"]
    assert [p["name"] for p in client.get(POLICIES, {"name": "READ"}).json()["results"]] == ["read-raw"]
    attached = client.get(POLICIES, {"user": "member@example.com"}).json()["results"]
    assert [(p["name"], p["users"]) for p in attached] == [("read-raw", ["member@example.com"])]


def test_a_member_reads_only_the_policies_attached_to_them(
    api: Any, policy: IdentityPolicy, member: Any, analysts: Group
) -> None:
    IdentityPolicy.objects.create(organization=policy.organization, name="not-theirs", document=READ_RAW)
    client = api(member)
    assert client.get(POLICIES).json()["results"] == []
    assert client.get(f"{POLICIES}read-raw/").status_code == 404
    PolicyAttachment.objects.create(policy=policy, group=analysts)
    member.groups.add(analysts)
    assert [p["name"] for p in client.get(POLICIES).json()["results"]] == ["read-raw"]
    shown = client.get(f"{POLICIES}read-raw/").json()
    assert (shown["document"], shown["groups"], shown["users"]) == (READ_RAW, [], [])


def test_platform_admins_manage_every_organizations_policies(
    api: Any, policy: IdentityPolicy, platform_admin: Any, member: Any
) -> None:
    client = api(platform_admin)
    assert client.get(f"{POLICIES}read-raw/").status_code == 200
    response = client.post(f"{POLICIES}read-raw/attach/", {"user": "member@example.com"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["users"] == ["member@example.com"]
    assert client.delete(f"{POLICIES}read-raw/").status_code == 204
    assert not IdentityPolicy.objects.exists()


def test_an_organization_admin_attaches_and_detaches(
    api: Any, policy: IdentityPolicy, admin_user: Any, member: Any, analysts: Group
) -> None:
    client = api(admin_user)
    response = client.post(f"{POLICIES}read-raw/attach/", {"group": "analysts"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["groups"] == ["analysts"]
    client.post(f"{POLICIES}read-raw/attach/", {"user": "member@example.com"}, format="json")
    attachment = PolicyAttachment.objects.get(policy=policy, user=member)
    assert attachment.attached_by == admin_user
    assert AuditEvent.objects.filter(action="policyattachment.create", target_id=str(attachment.pk)).exists()
    response = client.post(f"{POLICIES}read-raw/detach/", {"user": "member@example.com"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["users"] == []
    assert AuditEvent.objects.filter(action="policyattachment.delete", target_id=str(attachment.pk)).exists()
    assert_api_error(
        client.post(f"{POLICIES}read-raw/detach/", {"user": "member@example.com"}, format="json"), 400, "user"
    )


def test_a_policy_is_attached_only_within_its_organization(
    api: Any, policy: IdentityPolicy, owner: Any, outsider: Any
) -> None:
    client = api(owner)
    response = client.post(f"{POLICIES}read-raw/attach/", {"user": "outsider@example.com"}, format="json")
    assert_api_error(response, 400, "user")
    Group.objects.create(name="strangers")
    response = client.post(f"{POLICIES}read-raw/attach/", {"group": "strangers"}, format="json")
    assert_api_error(response, 400, "group")
    assert_api_error(client.post(f"{POLICIES}read-raw/attach/", {}, format="json"), 400, "user")
    assert not PolicyAttachment.objects.exists()


WRITES = [
    ("post", POLICIES, {"name": "taken", "document": READ_RAW}),
    ("patch", f"{POLICIES}read-raw/", {"description": "taken over"}),
    ("put", f"{POLICIES}read-raw/", {"name": "read-raw", "document": READ_RAW}),
    ("delete", f"{POLICIES}read-raw/", None),
    ("post", f"{POLICIES}read-raw/attach/", {"user": "member@example.com"}),
    ("post", f"{POLICIES}read-raw/detach/", {"user": "member@example.com"}),
    ("post", SIMULATE, {"user": "member@example.com", "action": "s3:GetObject", "resource": "acme-raw/a"}),
    ("post", SIMULATE_SPACE, {"user": "member@example.com", "space": "raw"}),
]


@pytest.mark.parametrize(("method", "url", "payload"), WRITES, ids=[f"{m}-{u.split('/')[-2]}" for m, u, _ in WRITES])
def test_a_member_may_not_change_policies_nor_simulate(
    api: Any, policy: IdentityPolicy, member: Any, method: str, url: str, payload: Any
) -> None:
    """Attached to the policy, the member sees it; seeing is not changing (403, recorded)."""
    PolicyAttachment.objects.create(policy=policy, user=member)
    before = (list(IdentityPolicy.objects.values()), list(PolicyAttachment.objects.values()))
    response = getattr(api(member), method)(url, payload, format="json")
    assert_api_error(response, 403)
    assert (list(IdentityPolicy.objects.values()), list(PolicyAttachment.objects.values())) == before
    assert AuditEvent.objects.filter(outcome=AuditEvent.Outcome.DENIED, actor=member).exists()


@pytest.mark.parametrize(("method", "url", "payload"), WRITES, ids=[f"{m}-{u.split('/')[-2]}" for m, u, _ in WRITES])
def test_an_outsider_finds_nothing(
    api: Any, policy: IdentityPolicy, outsider: Any, method: str, url: str, payload: Any
) -> None:
    before = (list(IdentityPolicy.objects.values()), list(PolicyAttachment.objects.values()))
    response = getattr(api(outsider), method)(url, payload, format="json")
    assert_api_error(response, 404)
    assert (list(IdentityPolicy.objects.values()), list(PolicyAttachment.objects.values())) == before
    assert api(outsider).get(POLICIES).status_code == 404


# --- the simulator ---


def simulate(client: Any, **question: Any) -> dict[str, Any]:
    response = client.post(SIMULATE, {"user": "member@example.com", **question}, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def test_the_simulator_explains_an_allow_with_the_matching_allows(
    api: Any, policy: IdentityPolicy, owner: Any, member: Any
) -> None:
    PolicyAttachment.objects.create(policy=policy, user=member)
    answer = simulate(api(owner), action="s3:GetObject", resource="arn:aws:s3:::acme-raw/in/run-1.csv")
    assert answer["decision"] == "allow"
    assert {"policy": "read-raw", "sid": "ReadRaw", "index": 1, "effect": "Allow"} in answer["statements"]
    # the member supplies raw, so the implied role policy allows it too
    assert {s["policy"] for s in answer["statements"]} == {"read-raw", "space roles"}
    assert answer["reason"].startswith("allowed by read-raw statement 1 (ReadRaw)")


def test_the_simulator_explains_a_deny_with_the_deny_that_won(
    api: Any, policy: IdentityPolicy, owner: Any, member: Any
) -> None:
    PolicyAttachment.objects.create(policy=policy, user=member)
    answer = simulate(api(owner), action="s3:GetObject", resource="acme-raw/secret/keys.txt")
    assert (answer["decision"], answer["outcome"]) == ("deny", "explicit deny")
    assert answer["statements"] == [{"policy": "read-raw", "sid": "NoSecrets", "index": 2, "effect": "Deny"}]
    assert answer["reason"] == "denied by read-raw statement 2 (NoSecrets)"


def test_the_simulator_says_when_no_statement_allowed_it(api: Any, space: Space, owner: Any, member: Any) -> None:
    answer = simulate(api(owner), action="s3:DeleteObject", resource="acme-raw/in/run-1.csv")
    assert answer == {
        "decision": "deny",
        "outcome": "implicit deny",
        "statements": [],
        "reason": "no statement allowed it",
    }


def test_the_simulator_reads_the_circumstances(api: Any, space: Space, owner: Any, member: Any) -> None:
    office = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "FromTheOffice",
                "Effect": "Deny",
                "Action": "s3:*",
                "Resource": "acme-raw/*",
                "Condition": {"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}},
            },
            {
                "Sid": "NotAfter",
                "Effect": "Deny",
                "Action": "s3:*",
                "Resource": "acme-raw/*",
                "Condition": {"DateGreaterThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"}},
            },
        ],
    }
    policy = IdentityPolicy.objects.create(organization=space.organization, name="office", document=office)
    PolicyAttachment.objects.create(policy=policy, user=member)
    client = api(owner)
    question = {"action": "s3:GetObject", "resource": "acme-raw/a.csv"}
    assert simulate(client, **question, source_ip="10.1.2.3", time="2029-06-01T00:00:00Z")["decision"] == "allow"
    away = simulate(client, **question, source_ip="192.0.2.1", time="2029-06-01T00:00:00Z")
    assert [s["sid"] for s in away["statements"]] == ["FromTheOffice"]
    late = simulate(client, **question, source_ip="10.1.2.3", time="2031-06-01T00:00:00Z")
    assert [s["sid"] for s in late["statements"]] == ["NotAfter"]


def test_the_simulator_refuses_questions_outside_the_organization(
    api: Any, space: Space, globex: Organization, owner: Any, outsider: Any
) -> None:
    client = api(owner)
    question = {"user": "member@example.com", "action": "s3:GetObject", "resource": "globex-shipments/a"}
    assert_api_error(client.post(SIMULATE, question, format="json"), 400, "resource")
    question = {"user": "outsider@example.com", "action": "s3:GetObject", "resource": "acme-raw/a"}
    assert_api_error(client.post(SIMULATE, question, format="json"), 400, "user")
    question = {"user": "member@example.com", "action": "s3:Fetch", "resource": "acme-raw/a"}
    assert_api_error(client.post(SIMULATE, question, format="json"), 400, "action")
    question = {"access_key": "SPACEPORTAAAAAAAAAAA", "action": "s3:GetObject", "resource": "acme-raw/a"}
    assert_api_error(client.post(SIMULATE, question, format="json"), 400, "access_key")


def test_what_a_user_may_do_in_a_space_is_a_table_of_actions(
    api: Any, policy: IdentityPolicy, owner: Any, member: Any
) -> None:
    response = api(owner).post(SIMULATE_SPACE, {"user": "member@example.com", "space": "raw"}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["user"], body["space"], body["bucket"]) == ("member@example.com", "raw", "acme-raw")
    table = {row["action"]: row for row in body["actions"]}
    assert table["s3:GetObject"]["decision"] == "allow"
    assert table["s3:GetObject"]["resource"] == "acme-raw/*"
    assert table["s3:ListBucket"]["resource"] == "acme-raw"
    assert table["s3:PutObject"]["decision"] == "allow"  # the member supplies raw
    assert table["s3:DeleteObject"]["decision"] == "deny"
    assert table["s3:PutBucketPolicy"]["reason"] == "no statement allowed it"
    assert_api_error(
        api(owner).post(SIMULATE_SPACE, {"user": "member@example.com", "space": "nope"}, format="json"), 400, "space"
    )


def test_the_simulator_answers_for_an_access_key_as_its_owner(
    api: Any, policy: IdentityPolicy, globex: Organization, owner: Any, member: Any, outsider: Any
) -> None:
    from accessgrants.accesskeys import deactivate_key, issue_key

    PolicyAttachment.objects.create(policy=policy, user=member)
    key = issue_key(member, policy.organization).key
    client = api(owner)
    question = {"access_key": key.access_key_id, "action": "s3:GetObject", "resource": "acme-raw/in/run-1.csv"}
    answer = client.post(SIMULATE, question, format="json").json()
    assert answer["decision"] == "allow"
    assert {"policy": "read-raw", "sid": "ReadRaw", "index": 1, "effect": "Allow"} in answer["statements"]
    table = client.post(SIMULATE_SPACE, {"access_key": key.access_key_id, "space": "raw"}, format="json").json()
    assert (table["user"], table["access_key"]) == ("member@example.com", key.access_key_id)
    assert {row["action"]: row["decision"] for row in table["actions"]}["s3:PutObject"] == "allow"

    deactivate_key(key.pk)
    denied = client.post(SIMULATE, question, format="json").json()
    assert (denied["decision"], denied["reason"], denied["statements"]) == ("deny", "the key is inactive", [])
    table = client.post(SIMULATE_SPACE, {"access_key": key.access_key_id, "space": "raw"}, format="json").json()
    assert {row["reason"] for row in table["actions"]} == {"the key is inactive"}

    elsewhere = issue_key(outsider, globex).key
    for asked in (elsewhere.access_key_id, "SPACEPORTAAAAAAAAAAA"):
        response = client.post(SIMULATE, {**question, "access_key": asked}, format="json")
        assert_api_error(response, 400, "access_key")
        assert f"The organization acme has no access key {asked}." in str(response.json()["fields"])
        response = client.post(SIMULATE_SPACE, {"access_key": asked, "space": "raw"}, format="json")
        assert_api_error(response, 400, "access_key")
    both = client.post(SIMULATE, {**question, "user": "member@example.com"}, format="json")
    assert_api_error(both, 400, "access_key")
    assert_api_error(
        client.post(SIMULATE, {"action": "s3:GetObject", "resource": "acme-raw/a"}, format="json"), 400, "user"
    )


def test_the_policy_endpoints_are_in_the_schema(api: Any, owner: Any) -> None:
    schema = api(owner).get("/api/schema/").content.decode()
    for path in ("/policies/{name}/attach/", "/simulate/", "/simulate/space/"):
        assert path in schema


OWN_WRITES = [
    ("post", POLICIES, {"name": "second", "document": READ_RAW}, 201),
    ("patch", f"{POLICIES}read-raw/", {"description": "changed"}, 200),
    ("put", f"{POLICIES}read-raw/", {"name": "read-raw", "description": "", "document": READ_RAW}, 200),
    ("post", f"{POLICIES}read-raw/attach/", {"user": "member@example.com"}, 200),
    ("post", f"{POLICIES}read-raw/detach/", {"user": "member@example.com"}, 200),
    ("delete", f"{POLICIES}read-raw/", None, 204),
    ("post", SIMULATE, {"user": "member@example.com", "action": "s3:GetObject", "resource": "acme-raw/a"}, 200),
    ("post", SIMULATE_SPACE, {"user": "member@example.com", "space": "raw"}, 200),
]


@pytest.mark.parametrize("actor", ["owner", "admin_user", "platform_admin"])
@pytest.mark.parametrize(
    ("method", "url", "payload", "expected"), OWN_WRITES, ids=[f"{m}-{u.split('/')[-2]}" for m, u, _, _ in OWN_WRITES]
)
def test_those_who_run_the_organization_may_do_every_write(
    api: Any,
    policy: IdentityPolicy,
    member: Any,
    request: pytest.FixtureRequest,
    actor: str,
    method: str,
    url: str,
    payload: Any,
    expected: int,
) -> None:
    if url.endswith("detach/"):
        PolicyAttachment.objects.create(policy=policy, user=member)
    response = getattr(api(request.getfixturevalue(actor)), method)(url, payload, format="json")
    assert response.status_code == expected, response.content
