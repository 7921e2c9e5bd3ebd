"""AccessManager's v2.0 endpoints, called as its clients call them: bearer JWTs from the identity
provider, query parameters, bare SAS strings back, Spring-shaped errors.

Every token that is handed out is tried on Azurite, which checks signatures and permissions;
every refusal is checked for AccessManager's status, ``errorCode`` and message.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from typing import Any
from urllib.parse import parse_qs, urlencode

import pytest
from azure.core.exceptions import HttpResponseError
from azure.storage.blob import ContainerClient
from django.test import Client

from connections import lifecycle
from connections.models import CloudConnection, Status
from connections.providers.registry import forget_clients
from portal.audit import journal
from portal.audit.models import AuditEvent
from portal.auth.models import ApiToken
from portal.tenancy.changes import create_organization, create_space
from portal.tenancy.models import LOADINGZONE, Organization, Space
from tests.conftest import PASSWORD
from tests.emulators import Azurite
from tests.idp.fixtures import IdentityProvider, identity_provider_fixture  # noqa: F401
from tests.idp.tokens import mint_access_token
from tests.test_rules import TABLE, Row
from tests.test_vending_azure import SAS_FORMAT, connect_to_azurite, ensure_containers, exists, permission_of, seed

V2 = "/api/v2.0/accessmanager/"
CONTEXT = "/accessmanager/api/v2.0/accessmanager/"
READER = ["org_acme_access", "acme_raw_user"]
SUPPLIER = ["org_acme_access", "acme_raw_supplier"]
TRUSTEE = ["org_acme_access", "acme_raw_trustee"]
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00$")


@pytest.fixture(autouse=True)
def fresh_clients() -> None:
    forget_clients()


@pytest.fixture
def idp(settings: Any, identity_provider: IdentityProvider) -> IdentityProvider:
    settings.OIDC_ISSUER = identity_provider.issuer
    settings.OIDC_AUDIENCE = identity_provider.client_id
    return identity_provider


@pytest.fixture
def acme(space: Space, azurite: Azurite) -> Space:
    """``acme/raw`` on Azurite (containers ``raw`` and ``loadingzone``), by connection string."""
    ensure_containers(azurite, "raw", LOADINGZONE)
    connect_to_azurite(space.organization, azurite)
    return space


def call(
    op: str,
    token: str | None = None,
    *,
    prefix: str = V2,
    method: str = "POST",
    client: Client | None = None,
    headers: dict[str, str] | None = None,
    **params: str,
) -> Any:
    url = f"{prefix}{op}" + (f"?{urlencode(params)}" if params else "")
    extra = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    extra.update(headers or {})
    return (client or Client()).generic(method, url, **extra)


def sas_of(response: Any) -> str:
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "text/plain;charset=UTF-8"
    body = response.content.decode()
    assert SAS_FORMAT.match(body), body
    return body


def container(azurite: Azurite, name: str, sas: str) -> ContainerClient:
    return ContainerClient.from_container_url(f"{azurite.blob_endpoint}/{name}?{sas}")


def refused_by_azurite(action: Any) -> None:
    with pytest.raises(HttpResponseError) as caught:
        action()
    assert caught.value.status_code == 403


def assert_error(response: Any, status: int, code: int, text: str) -> None:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    body = json.loads(response.content)
    assert list(body) == ["timestamp", "status", "error", "errorCode", "message"]
    assert TIMESTAMP.match(body["timestamp"]), body["timestamp"]
    assert (body["status"], body["errorCode"]) == (status, code)
    assert body["message"] == f"{code}: {text}"


def permission(sas: str) -> str:
    return permission_of(sas)


# --- the four token endpoints ---


def test_read_answers_a_bare_sas_that_lists_and_reads_but_cannot_write(
    idp: IdentityProvider, acme: Space, azurite: Azurite
) -> None:
    name = seed(azurite, "raw", b"measurement")
    response = call("read", mint_access_token(idp, READER), organization="acme", space="raw")
    sas = sas_of(response)
    assert permission(sas) == "rl"
    assert response["Cache-Control"] == "no-cache, no-store, max-age=0, must-revalidate"
    raw = container(azurite, "raw", sas)
    assert name in {blob.name for blob in raw.list_blobs(name_starts_with="seed-")}
    assert raw.download_blob(name).readall() == b"measurement"
    refused_by_azurite(lambda: raw.upload_blob(f"x-{uuid.uuid4().hex}", b"x"))
    refused_by_azurite(lambda: raw.delete_blob(name))


def test_upload_opens_the_loadingzone_and_not_the_space(idp: IdentityProvider, acme: Space, azurite: Azurite) -> None:
    sas = sas_of(call("upload", mint_access_token(idp, SUPPLIER), organization="acme", space="raw"))
    assert permission(sas) == "racwl"
    name = f"raw/batch-{uuid.uuid4().hex}.csv"
    container(azurite, LOADINGZONE, sas).upload_blob(name, b"a,b\n")
    assert exists(azurite, LOADINGZONE, name)
    refused_by_azurite(lambda: container(azurite, "raw", sas).upload_blob(name, b"a,b\n"))
    refused_by_azurite(lambda: container(azurite, LOADINGZONE, sas).delete_blob(name))


def test_upload_main_writes_into_the_space(idp: IdentityProvider, acme: Space, azurite: Azurite) -> None:
    sas = sas_of(call("upload/main", mint_access_token(idp, SUPPLIER), organization="acme", space="raw"))
    assert permission(sas) == "racwl"
    name = f"direct-{uuid.uuid4().hex}.csv"
    container(azurite, "raw", sas).upload_blob(name, b"a,b\n")
    assert exists(azurite, "raw", name)
    refused_by_azurite(lambda: container(azurite, LOADINGZONE, sas).upload_blob(name, b"a,b\n"))


def test_delete_deletes_for_a_trustee_only(idp: IdentityProvider, acme: Space, azurite: Azurite) -> None:
    name = seed(azurite, "raw")
    assert_error(
        call("delete", mint_access_token(idp, SUPPLIER), organization="acme", space="raw"),
        403,
        10021,
        "Missing permission to delete file.",
    )
    sas = sas_of(call("delete", mint_access_token(idp, TRUSTEE), organization="acme", space="raw"))
    assert permission(sas) == "racwdl"
    container(azurite, "raw", sas).delete_blob(name)
    assert not exists(azurite, "raw", name)


def test_a_supplier_deletes_in_the_loadingzone(idp: IdentityProvider, acme: Space, azurite: Azurite) -> None:
    name = seed(azurite, LOADINGZONE)
    sas = sas_of(call("delete", mint_access_token(idp, SUPPLIER), organization="acme", space=LOADINGZONE))
    container(azurite, LOADINGZONE, sas).delete_blob(name)
    assert not exists(azurite, LOADINGZONE, name)
    assert_error(
        call("delete", mint_access_token(idp, READER), organization="acme", space=LOADINGZONE),
        403,
        10021,
        "Missing permission to delete file.",
    )


def test_the_original_context_path_and_form_bodies_work_too(idp: IdentityProvider, acme: Space) -> None:
    token = mint_access_token(idp, READER)
    assert permission(sas_of(call("read", token, prefix=CONTEXT, organization="acme", space="raw"))) == "rl"
    form = Client().post(
        f"{CONTEXT}read", {"organization": "acme", "space": "raw"}, HTTP_AUTHORIZATION=f"Bearer {token}"
    )
    assert permission(sas_of(form)) == "rl"


def test_accept_json_labels_the_same_raw_string(idp: IdentityProvider, acme: Space) -> None:
    token = mint_access_token(idp, READER)
    response = call("read", token, headers={"HTTP_ACCEPT": "application/json"}, organization="acme", space="raw")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert SAS_FORMAT.match(response.content.decode())


# --- authentication, methods, parameters, paths ---


def test_no_or_a_bad_token_is_401_with_an_empty_body(idp: IdentityProvider, acme: Space) -> None:
    anonymous = call("read", organization="acme", space="raw")
    assert (anonymous.status_code, anonymous.content, anonymous["WWW-Authenticate"]) == (401, b"", "Bearer")

    good = mint_access_token(idp, READER)
    head, payload, signature = good.split(".")
    forged = f"{head}.{payload}.{('A' if signature[0] != 'A' else 'B')}{signature[1:]}"
    expired = mint_access_token(idp, READER, lifetime=-600)
    for token in (forged, expired, "not-a-jwt"):
        response = call("read", token, organization="acme", space="raw")
        assert response.status_code == 401 and response.content == b""
        challenge = response["WWW-Authenticate"]
        assert challenge.startswith('Bearer error="invalid_token", error_description="')
        assert 'error_uri="https://tools.ietf.org/html/rfc6750#section-3.1"' in challenge
        assert token not in challenge
    journal.drain()
    assert not AuditEvent.objects.filter(action="credential.issue").exists()


def test_a_wrong_method_is_405_after_authentication(idp: IdentityProvider, acme: Space) -> None:
    assert call("read", method="GET", organization="acme", space="raw").status_code == 401
    response = call("read", mint_access_token(idp, READER), method="GET", organization="acme", space="raw")
    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert response["Content-Type"] == "application/problem+json"
    assert json.loads(response.content) == {
        "type": "about:blank",
        "title": "Method Not Allowed",
        "status": 405,
        "detail": "Method 'GET' is not supported.",
        "instance": f"{V2}read",
    }


def test_missing_parameters_are_400_in_springs_order(idp: IdentityProvider, acme: Space) -> None:
    token = mint_access_token(idp, READER)
    for params, name in (({}, "organization"), ({"space": "raw"}, "organization"), ({"organization": "acme"}, "space")):
        response = call("upload/main", token, prefix=CONTEXT, **params)
        assert response.status_code == 400
        assert response["Content-Type"] == "application/problem+json"
        assert json.loads(response.content) == {
            "type": "about:blank",
            "title": "Bad Request",
            "status": 400,
            "detail": f"Required parameter '{name}' is not present.",
            "instance": f"{CONTEXT}upload/main",
        }
    assert_error(call("read", token, organization="acme", space=""), 403, 10011, "Missing permission to download file.")


def test_unknown_paths_are_404_for_callers_and_401_for_strangers(idp: IdentityProvider, acme: Space) -> None:
    token = mint_access_token(idp, READER)
    for path in ("read/", "Read", "download"):
        assert call(path, organization="acme", space="raw").status_code == 401
        response = call(path, token, organization="acme", space="raw")
        assert response.status_code == 404
        body = json.loads(response.content)
        assert (body["status"], body["error"], body["path"]) == (404, "Not Found", f"{V2}{path}")


def test_api_tokens_and_sessions_are_accepted(acme: Space, member: Any) -> None:
    _, key = ApiToken.issue(member, "script")
    response = Client().post(f"{V2}upload?organization=acme&space=raw", HTTP_AUTHORIZATION=f"Token {key}")
    assert permission(sas_of(response)) == "racwl"
    bad = Client().post(f"{V2}read?organization=acme&space=raw", HTTP_AUTHORIZATION="Token spt_wrong")
    assert bad.status_code == 401 and bad.content == b""

    browser = Client(enforce_csrf_checks=True)
    assert browser.login(username=member.username, password=PASSWORD)
    assert browser.post(f"{V2}read?organization=acme&space=raw").status_code == 401, "no CSRF token, no session"
    browser.get("/")
    csrf = browser.cookies["csrftoken"].value
    response = browser.post(f"{V2}read?organization=acme&space=raw", HTTP_X_CSRFTOKEN=csrf)
    assert permission(sas_of(response)) == "rl"


# --- refusals ---


def test_unknown_organization_is_404_and_unknown_space_is_forbidden(idp: IdentityProvider, acme: Space) -> None:
    token = mint_access_token(idp, TRUSTEE)
    assert_error(
        call("read", token, organization="nosuchorg", space="raw"), 404, 10061, "Unable to find the given organization."
    )
    for op, code, text in (
        ("read", 10011, "Missing permission to download file."),
        ("upload", 10001, "Missing permission to save file."),
        ("upload/main", 10001, "Missing permission to save file."),
        ("delete", 10021, "Missing permission to delete file."),
    ):
        assert_error(call(op, token, organization="acme", space="nosuchspace"), 403, code, text)


def test_an_organization_the_caller_cannot_see_answers_forbidden(
    idp: IdentityProvider, acme: Space, azurite: Azurite
) -> None:
    other = create_organization(name="globex")
    create_space(other, name="raw")
    connect_to_azurite(other, azurite)
    token = mint_access_token(idp, [*TRUSTEE, "spc_raw_trustee"])
    assert_error(
        call("read", token, organization="globex", space="raw"), 403, 10011, "Missing permission to download file."
    )
    assert_error(
        call("upload", token, organization="globex", space="raw"), 403, 10001, "Missing permission to save file."
    )
    assert_error(
        call("delete", token, organization="globex", space="raw"), 403, 10021, "Missing permission to delete file."
    )


def test_storage_that_cannot_give_a_sas_is_10041(idp: IdentityProvider, organization: Organization) -> None:
    create_space(organization, name="raw")
    token = mint_access_token(idp, TRUSTEE)
    missing = "Unable to find the given Storage Account."
    assert_error(call("read", token, organization="acme", space="raw"), 404, 10041, missing)

    s3 = lifecycle.create_connection(
        organization,
        name="bucket",
        method="s3_static_keys",
        values={
            "endpoint": "http://127.0.0.1:9",
            "bucket": "acme",
            "access_key_id": "AKIDEXAMPLE",
            "secret_access_key": "not-used",
        },
        validate=False,
    )
    CloudConnection.objects.filter(pk=s3.pk).update(status=Status.VALID)
    assert_error(call("read", token, organization="acme", space="raw"), 404, 10041, missing)
    CloudConnection.objects.filter(pk=s3.pk).update(status=Status.DISABLED)
    assert_error(call("read", token, organization="acme", space="raw"), 404, 10041, missing)
    assert_error(
        call("read", mint_access_token(idp, ["org_acme_access"]), organization="acme", space="raw"),
        403,
        10011,
        "Missing permission to download file.",
    )


def test_a_space_without_a_container_is_10051(idp: IdentityProvider, acme: Space) -> None:
    name = f"empty-{uuid.uuid4().hex[:8]}"
    create_space(acme.organization, name=name)
    token = mint_access_token(idp, ["org_acme_trustee"])
    assert_error(
        call("read", token, organization="acme", space=name), 400, 10051, "The requested container does not exist!"
    )


def test_too_many_tokens_are_429(idp: IdentityProvider, acme: Space, settings: Any) -> None:
    settings.SPACEPORT_CREDENTIAL_RATE_LIMIT_PER_MINUTE = 2
    if time.time() % 60 > 55:
        time.sleep(60 - time.time() % 60 + 0.1)
    token = mint_access_token(idp, READER, subject="busy-script")
    for _ in range(2):
        assert call("read", token, organization="acme", space="raw").status_code == 200
    response = call("read", token, organization="acme", space="raw")
    assert response.status_code == 429
    body = json.loads(response.content)
    assert body["errorCode"] == 10081 and body["error"] == "Too Many Requests"
    assert body["message"].startswith("10081: Too many tokens requested. Try again in ")
    assert 0 < int(response["Retry-After"]) <= 60
    journal.drain()
    trail = AuditEvent.objects.filter(action__startswith="credential.").order_by("time", "pk")
    assert [(e.action, e.details["cached"] if e.outcome == "success" else e.details["reason"]) for e in trail] == [
        ("credential.issue", False),
        ("credential.issue", True),
        ("credential.refuse", "throttled"),
    ]


def test_commit_checks_write_then_needs_a_root_directory(idp: IdentityProvider, acme: Space) -> None:
    """The move itself, its 204 and its refusals are tested in test_commits."""
    assert_error(
        call("commit", mint_access_token(idp, READER), organization="acme", space="raw", rootDir="batch1"),
        403,
        10001,
        "Missing permission to save file.",
    )
    missing_root = call("commit", mint_access_token(idp, SUPPLIER), organization="acme", space="raw")
    assert missing_root.status_code == 400
    assert json.loads(missing_root.content)["detail"] == "Required parameter 'rootDir' is not present."
    assert_error(
        call("commit", mint_access_token(idp, SUPPLIER), organization="acme", space="raw", rootDir="batch1"),
        400,
        10092,
        "There is nothing to commit under the root directory. There is nothing under 'batch1/' in the "
        "loadingzone of acme.",
    )
    assert call("commit", mint_access_token(idp, SUPPLIER), organization="acme").status_code == 400
    assert call("commit", organization="acme", space="raw").status_code == 401


# --- the role table of the reference, through the endpoints ---

CODES = {"read": 10011, "write": 10001, "delete": 10021}


def _orga1(row: Row, azurite: Azurite) -> None:
    organization = create_organization(name="orga1", confidentiality=row.org)
    space1 = create_space(organization, name="space1", confidentiality=row.space)
    connect_to_azurite(organization, azurite)
    target = organization.spaces.get(name=row.target)
    Space.objects.filter(pk__in=[space1.pk, target.pk]).update(state=row.space_state)
    Organization.objects.filter(pk=organization.pk).update(state=row.org_state)


def _works(azurite: Azurite, row: Row, op: str, sas: str) -> None:
    box = container(azurite, LOADINGZONE if op == "upload" else row.target, sas)
    if row.action == "read":
        list(box.list_blobs(name_starts_with="none-"))
        refused_by_azurite(lambda: box.upload_blob(f"x-{uuid.uuid4().hex}", b"x"))
    elif row.action == "write":
        box.upload_blob(f"row-{uuid.uuid4().hex}", b"x")
        refused_by_azurite(lambda: box.delete_blob("anything"))
    else:
        name = seed(azurite, row.target)
        box.delete_blob(name)


@pytest.mark.parametrize("row", TABLE, ids=str)
def test_role_table_through_the_endpoints(db: None, idp: IdentityProvider, azurite: Azurite, row: Row) -> None:
    ensure_containers(azurite, "space1", LOADINGZONE)
    _orga1(row, azurite)
    token = mint_access_token(idp, list(row.claims))
    ops = {"read": ["read"], "write": ["upload/main"], "delete": ["delete"]}[row.action]
    if row.action == "write" and row.target == "space1":
        ops.append("upload")
    for op in ops:
        response = call(op, token, organization="orga1", space=row.target)
        if row.expected:
            sas = sas_of(response)
            assert permission(sas) == {"read": "rl", "write": "racwl", "delete": "racwdl"}[row.action]
            _works(azurite, row, op, sas)
        else:
            body = json.loads(response.content)
            assert (response.status_code, body["errorCode"]) == (403, CODES[row.action]), body


# --- AccessManager's cache defect, and the cache done right ---


def test_a_reader_never_gets_the_delete_token_cached_before(
    idp: IdentityProvider, acme: Space, azurite: Azurite
) -> None:
    trustee, reader = mint_access_token(idp, TRUSTEE), mint_access_token(idp, READER)
    delete_sas = sas_of(call("delete", trustee, organization="acme", space="raw"))
    assert permission(delete_sas) == "racwdl"
    for space in ("raw", "RAW", "Raw"):
        read_sas = sas_of(call("read", reader, organization="acme", space=space))
        assert permission(read_sas) == "rl"
        assert read_sas != delete_sas
        name = seed(azurite, "raw")
        refused_by_azurite(lambda name=name, sas=read_sas: container(azurite, "raw", sas).delete_blob(name))
    again = sas_of(call("delete", trustee, organization="acme", space="raw"))
    assert again == delete_sas, "delete tokens are cached as delete tokens"


def test_read_first_then_delete_and_after_the_read_token_expired(
    idp: IdentityProvider, acme: Space, settings: Any
) -> None:
    trustee, reader = mint_access_token(idp, TRUSTEE), mint_access_token(idp, READER)
    settings.SPACEPORT_CREDENTIAL_LIFETIME_MINUTES = {"read": 30, "write": 30, "delete": 30}
    settings.SPACEPORT_CREDENTIAL_CACHE_BUFFER_MINUTES = 10
    first = sas_of(call("read", reader, organization="acme", space="raw"))
    delete_sas = sas_of(call("delete", trustee, organization="acme", space="raw"))
    assert permission(delete_sas) == "racwdl" and delete_sas != first
    assert sas_of(call("read", reader, organization="acme", space="raw")) == first

    settings.SPACEPORT_CREDENTIAL_CACHE_BUFFER_MINUTES = 30
    delete_later = sas_of(call("delete", trustee, organization="acme", space="raw"))
    after = sas_of(call("read", reader, organization="acme", space="raw"))
    assert permission(after) == "rl" and after != delete_later
    journal.drain()
    reads = AuditEvent.objects.filter(action="credential.issue", details__access="read").order_by("time", "pk")
    assert [event.details["cached"] for event in reads] == [False, True, False]


def test_a_cached_token_is_shared_within_the_buffer(idp: IdentityProvider, acme: Space, settings: Any) -> None:
    settings.SPACEPORT_CREDENTIAL_CACHE_BUFFER_MINUTES = 10
    first = sas_of(call("read", mint_access_token(idp, READER), organization="acme", space="raw"))
    second = sas_of(call("read", mint_access_token(idp, READER), organization="acme", space="raw"))
    assert first == second


def test_a_cached_vend_takes_at_most_six_queries(acme: Space, member: Any, django_assert_max_num_queries: Any) -> None:
    """With an API token: the token, the grants, the ownerships, the space, the audit row (and the
    loadingzone for ``upload``)."""
    _, key = ApiToken.issue(member, "script")
    for op in ("read", "upload", "upload/main"):
        url = f"{V2}{op}?organization=acme&space=raw"
        sas_of(Client().post(url, HTTP_AUTHORIZATION=f"Token {key}"))
        with django_assert_max_num_queries(6):
            sas_of(Client().post(url, HTTP_AUTHORIZATION=f"Token {key}"))


@pytest.mark.parametrize(("op", "queries"), [("read", 5), ("upload/main", 5), ("upload", 6)])
def test_a_cached_vend_with_a_bearer_token_stays_within_its_query_count(
    idp: IdentityProvider, acme: Space, django_assert_max_num_queries: Any, op: str, queries: int
) -> None:
    """The subject's account, the role claims resolved, the grants and ownerships, the space, the
    audit row (and the loadingzone for ``upload``): at most six, the goal."""
    token = mint_access_token(idp, SUPPLIER, subject="frequent")
    sas_of(call(op, token, organization="acme", space="raw"))
    with django_assert_max_num_queries(queries):
        sas_of(call(op, token, organization="acme", space="raw"))


def test_issuance_and_refusal_are_audited_without_the_token(idp: IdentityProvider, acme: Space) -> None:
    sas = sas_of(call("upload", mint_access_token(idp, SUPPLIER), organization="acme", space="raw"))
    call("delete", mint_access_token(idp, READER), organization="acme", space="raw")
    call("read", mint_access_token(idp, READER), organization="acme", space="nosuchspace")
    journal.drain()
    events = list(AuditEvent.objects.filter(action__startswith="credential.").order_by("time", "pk"))
    assert [(e.action, e.outcome, e.details.get("reason")) for e in events] == [
        ("credential.issue", "success", None),
        ("credential.refuse", "denied", "delete_denied"),
        ("credential.refuse", "denied", "no_such_space"),
    ]
    issued = events[0]
    assert (issued.target_label, issued.details["space"], issued.details["target"]) == (
        "acme/loadingzone",
        "raw",
        "loadingzone",
    )
    assert issued.actor is not None and issued.organization == acme.organization
    signature = parse_qs(sas)["sig"][0]
    assert not AuditEvent.objects.filter(details__icontains=signature).exists()
    for event in events:
        assert signature not in json.dumps(event.details)


def test_a_repeated_vend_is_audited_each_time_as_the_first_hit_was(idp: IdentityProvider, acme: Space) -> None:
    """The third and fourth vends answer from what the second decided; their entries match its entry
    but for the request's own time and id."""
    token = mint_access_token(idp, SUPPLIER, subject="repeating")
    ids = [f"repeat-{n}-{uuid.uuid4().hex[:8]}" for n in range(4)]
    answers = {
        sas_of(call("upload", token, headers={"HTTP_X_REQUEST_ID": i}, organization="acme", space="raw")) for i in ids
    }
    assert len(answers) == 1, "the same cached credential every time"
    journal.drain()
    events = list(AuditEvent.objects.filter(action="credential.issue").order_by("time", "pk"))
    assert [e.request_id for e in events] == ids
    assert [e.details["cached"] for e in events] == [False, True, True, True]
    kept = ("actor_id", "actor_label", "target_type", "target_id", "target_label", "organization_id", "outcome")
    second = events[1]
    for later in events[2:]:
        assert {name: getattr(later, name) for name in kept} == {name: getattr(second, name) for name in kept}
        assert later.details == second.details
        assert later.ip_address == second.ip_address == "127.0.0.1"
        assert later.time > second.time


def test_parameters_may_come_in_a_form_body(idp: IdentityProvider, acme: Space) -> None:
    """Spring binds form fields like query parameters; a body of another type has none."""
    token = mint_access_token(idp, READER)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    fields = {"organization": "acme", "space": "raw"}
    form = urlencode(fields)
    sas_of(Client().post(f"{V2}read", form, content_type="application/x-www-form-urlencoded", **auth))
    sas_of(Client().post(f"{V2}read", fields, **auth))
    sas_of(Client().post(f"{V2}read?space=raw", {"organization": "acme"}, **auth))
    ignored = Client().post(f"{V2}read", form, content_type="text/plain", **auth)
    assert ignored.status_code == 400
    assert "organization" in ignored.content.decode()
