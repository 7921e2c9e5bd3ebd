"""The onboarding wizard's pages: who reaches them, what each step shows, and how bad input is answered.

Validation runs for real against ``rclone serve s3``: Celery runs the task in-process (eager) when
the commit callbacks fire.
"""

from __future__ import annotations

import json
import re
import secrets
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils.html import escape

from connections.active import active_connection
from connections.drafts import start_draft
from connections.forms import BoundedUploadHandler
from connections.inputs import MAX_UPLOAD_BYTES
from connections.methods import Method, Provider, all_specs
from connections.models import CloudConnection, Status
from portal.tenancy.models import Organization, Space
from tests.conftest import make_user
from tests.connection_inputs import service_account_key
from tests.emulators import RcloneS3
from tests.pages_support import client_for, field_errors

S3 = Method.S3_STATIC_KEYS


@pytest.fixture
def draft(organization: Organization, owner: Any, space: Space) -> CloudConnection:
    return start_draft(organization, S3, created_by=owner)


@pytest.fixture
def eager(settings: Any) -> None:
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.CELERY_TASK_EAGER_PROPAGATES = True


@pytest.fixture
def bucket(rclone_s3: RcloneS3) -> str:
    name = f"wizard-{secrets.token_hex(4)}"
    rclone_s3.client().create_bucket(Bucket=name)
    return name


def s3_details(rclone_s3: RcloneS3, bucket: str, **changes: Any) -> dict[str, Any]:
    values = {
        "name": "s3-store",
        "endpoint": rclone_s3.endpoint_url,
        "bucket": bucket,
        "prefix": "",
        "access_key_id": rclone_s3.key.access_key_id,
        "secret_access_key": rclone_s3.key.secret_access_key,
        "addressing_style": "path",
        "verify_tls": "on",
        "region": "us-east-1",
    }
    values.update(changes)
    return {key: value for key, value in values.items() if value is not None}


@pytest.fixture
def valid_connection(
    owner: Any,
    draft: CloudConnection,
    rclone_s3: RcloneS3,
    bucket: str,
    eager: None,
    django_capture_on_commit_callbacks: Any,
) -> CloudConnection:
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(owner).post(url("connection_details", draft), s3_details(rclone_s3, bucket))
    assert response.status_code == 302, response.content.decode()
    draft.refresh_from_db()
    assert draft.status == Status.VALID, draft.validation_report
    return draft


def url(name: str, connection: CloudConnection | None = None, *extra: str) -> str:
    if connection is None:
        return reverse(name, args=["acme", *extra])
    return reverse(name, args=["acme", connection.name, *extra])


def connection_urls(connection: CloudConnection) -> list[str]:
    names = ("connection", "connection_setup", "connection_details", "connection_report")
    return [url(name, connection) for name in names]


# --- who reaches the wizard ---


@pytest.mark.parametrize("who", ["owner", "admin_user"])
def test_every_step_renders_for_owners_and_admins(request: pytest.FixtureRequest, who: str, space: Space) -> None:
    client = client_for(request.getfixturevalue(who))
    assert client.get(url("connection_list")).status_code == 200
    clouds = client.get(url("connection_new"))
    assert clouds.status_code == 200
    for provider in Provider:
        assert f'data-provider="{provider}"' in clouds.content.decode()
        page = client.get(url("connection_new_method", None, provider))
        assert page.status_code == 200
        html = page.content.decode()
        for spec in all_specs().values():
            assert (f'data-method="{spec.method}"' in html) == (spec.provider == provider)
    response = client.post(url("connection_new_method", None, Provider.S3COMPAT), {"method": S3})
    connection = CloudConnection.objects.get(organization__name="acme")
    assert response.status_code == 302
    assert response["Location"] == url("connection_setup", connection)
    for page_url in connection_urls(connection):
        assert client.get(page_url).status_code == 200, page_url


def test_methods_show_their_summary_risk_and_recommendation(owner: Any, space: Space) -> None:
    html = client_for(owner).get(url("connection_new_method", None, Provider.AWS)).content.decode()
    cards = dict(re.findall(r'data-method="([a-z_]+)">(.*?)</form>', html, re.S))
    assert set(cards) == {Method.AWS_CROSS_ACCOUNT_ROLE, Method.AWS_WEB_IDENTITY, Method.AWS_ACCESS_KEYS}
    assert next(iter(cards)) == Method.AWS_CROSS_ACCOUNT_ROLE
    for method, card in cards.items():
        spec = all_specs()[method]
        assert escape(spec.summary) in card
        assert escape(spec.risk) in card
        assert ("Recommended" in card) == spec.recommended


def test_members_are_refused_every_step(member: Any, draft: CloudConnection) -> None:
    client = client_for(member)
    pages = [url("connection_list"), url("connection_new"), url("connection_new_method", None, "aws")]
    for page_url in [*pages, *connection_urls(draft)]:
        assert client.get(page_url).status_code == 403, page_url
    posts = [url(name, draft) for name in ("connection_validate", "connection_disable", "connection_discard")]
    for post_url in [*posts, url("connection_details", draft)]:
        assert client.post(post_url, {"name": "taken-over"}).status_code == 403, post_url
    assert client.post(url("connection_new_method", None, "aws"), {"method": Method.AWS_ACCESS_KEYS}).status_code == 403
    assert list(CloudConnection.objects.values_list("name", "status")) == [("s3-store", Status.DRAFT)]


def test_outsiders_get_404_and_anonymous_people_are_sent_to_sign_in(
    outsider: Any, draft: CloudConnection, client: Client
) -> None:
    for page_url in [url("connection_list"), url("connection_new"), *connection_urls(draft)]:
        assert client_for(outsider).get(page_url).status_code == 404, page_url
        response = client.get(page_url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert client_for(outsider).post(url("connection_disable", draft)).status_code == 404
    assert client_for(outsider).post(url("connection_new_method", None, "aws"), {"method": "x"}).status_code == 404


def test_connections_of_another_organization_are_not_found(owner: Any, draft: CloudConnection) -> None:
    other_owner = make_user("other@example.com")
    from portal.tenancy.changes import create_organization

    create_organization(name="globex", owner=other_owner)
    assert client_for(other_owner).get(reverse("connection", args=["globex", draft.name])).status_code == 404


def test_an_unknown_cloud_or_method_changes_nothing(owner: Any, space: Space) -> None:
    client = client_for(owner)
    assert client.get(url("connection_new_method", None, "dropbox")).status_code == 404
    response = client.post(url("connection_new_method", None, "aws"), {"method": S3})
    assert response.status_code == 400
    assert "Choose one of the methods below." in response.content.decode()
    assert not CloudConnection.objects.exists()


# --- drafts and the cloud side ---


def test_choosing_a_method_keeps_a_draft_and_going_back_reuses_it(owner: Any, space: Space) -> None:
    client = client_for(owner)
    choose = url("connection_new_method", None, "aws")
    first = client.post(choose, {"method": Method.AWS_CROSS_ACCOUNT_ROLE})
    again = client.post(choose, {"method": Method.AWS_CROSS_ACCOUNT_ROLE})
    assert first["Location"] == again["Location"]
    draft = CloudConnection.objects.get()
    assert (draft.status, draft.name, draft.created_by) == (Status.DRAFT, "aws-s3", owner)
    assert draft.external_id and draft.external_id.startswith("spaceport-")
    client.post(choose, {"method": Method.AWS_ACCESS_KEYS})
    assert sorted(CloudConnection.objects.values_list("name", flat=True)) == ["aws-s3", "aws-s3-2"]
    assert "aws-s3-2" in client.get(url("connection_list")).content.decode()


def test_the_cloud_step_shows_the_external_id_and_the_trust_policy(owner: Any, space: Space) -> None:
    client = client_for(owner)
    client.post(url("connection_new_method", None, "aws"), {"method": Method.AWS_CROSS_ACCOUNT_ROLE})
    draft = CloudConnection.objects.get()
    html = client.get(url("connection_setup", draft)).content.decode()
    assert f'<code id="external-id">{draft.external_id}</code>' in html
    assert "cannot be changed" in html
    policies = re.findall(r'<pre class="code" id="code-\d" data-language="json">(.*?)</pre>', html, re.S)
    trust = json.loads(policies[0].replace("&quot;", '"'))
    statement = trust["Statement"][0]
    assert statement["Condition"] == {"StringEquals": {"sts:ExternalId": draft.external_id}}
    assert statement["Action"][0] == "sts:AssumeRole"
    assert "&lt;your-bucket&gt;" in html
    assert 'data-copy="#external-id"' in html and 'data-copy="#code-1"' in html


def test_methods_without_external_id_do_not_show_one(owner: Any, draft: CloudConnection) -> None:
    html = client_for(owner).get(url("connection_setup", draft)).content.decode()
    assert draft.external_id is None
    assert 'id="external-id"' not in html
    assert "Identity policy for Spaceport&#x27;s user" in html


def test_a_draft_can_be_discarded_but_a_connection_in_use_cannot(owner: Any, valid_connection: CloudConnection) -> None:
    client = client_for(owner)
    response = client.post(url("connection_discard", valid_connection))
    assert response.status_code == 302
    assert CloudConnection.objects.filter(pk=valid_connection.pk).exists()
    other = start_draft(valid_connection.organization, Method.AWS_ACCESS_KEYS, created_by=owner)
    assert client.post(url("connection_discard", other))["Location"] == url("connection_list")
    assert not CloudConnection.objects.filter(pk=other.pk).exists()


# --- the details form ---


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "Not A Name", "Use 3 to 63 lowercase letters, digits, -."),
        ("name", "new", "reserved"),
        ("endpoint", "ftp://store.example.com", "Enter a URL starting with https://"),
        ("endpoint", "http://169.254.169.254", "this is a cloud metadata address"),
        ("endpoint", "http://metadata.google.internal", "this is a cloud metadata name"),
        ("bucket", "Bad_Bucket", "Bucket names have 3 to 63 characters"),
        ("prefix", "/absolute", "Enter a path such as spaceport/"),
        ("access_key_id", "has spaces in it", "An access key id has only letters"),
        ("secret_access_key", "", "This field is required."),
        ("addressing_style", "sideways", "Select a valid choice."),
    ],
)
def test_bad_input_shows_the_error_next_to_its_field_and_saves_nothing(
    owner: Any, draft: CloudConnection, field: str, value: str, message: str
) -> None:
    values = s3_details_static(**{field: value})
    response = client_for(owner).post(url("connection_details", draft), values)
    assert response.status_code == 400
    assert any(message in error for error in field_errors(response, f"id_{field}")), field_errors(
        response, f"id_{field}"
    )
    stored = CloudConnection.objects.get(pk=draft.pk)
    assert (stored.name, stored.status, stored.config, stored.secret) == ("s3-store", Status.DRAFT, {}, None)
    html = response.content.decode()
    assert "wJalrXUtnFEMI" not in html
    assert 'name="secret_access_key"' in html and re.search(r'name="secret_access_key"[^>]*value=', html) is None


def s3_details_static(**changes: Any) -> dict[str, Any]:
    """Input that passes every check (it would fail only against a real store)."""
    values = {
        "name": "s3-store",
        "endpoint": "https://s3.example.com",
        "bucket": "acme-data",
        "prefix": "",
        "access_key_id": "SPACEPORTKEY",
        "secret_access_key": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "addressing_style": "path",
        "verify_tls": "on",
        "region": "us-east-1",
    }
    values.update(changes)
    return values


def test_a_name_taken_by_another_connection_is_refused(owner: Any, draft: CloudConnection) -> None:
    start_draft(draft.organization, Method.AWS_ACCESS_KEYS, created_by=owner)
    response = client_for(owner).post(url("connection_details", draft), s3_details_static(name="aws-s3"))
    assert response.status_code == 400
    assert field_errors(response, "id_name") == ["A connection with this name already exists here."]
    assert CloudConnection.objects.get(pk=draft.pk).name == "s3-store"


def test_an_upload_over_64_kib_is_refused_with_a_clear_error(owner: Any, space: Space) -> None:
    draft = start_draft(space.organization, Method.GCP_SERVICE_ACCOUNT_KEY, created_by=owner)
    key = service_account_key()
    oversized = json.dumps({**key, "padding": "x" * (64 * 1024)}).encode()
    response = client_for(owner).post(
        url("connection_details", draft),
        {"name": "gcs", "bucket": "acme-data", "key_json": SimpleUploadedFile("key.json", oversized)},
    )
    assert response.status_code == 400
    assert field_errors(response, "id_key_json") == [
        f"This file is {len(oversized) // 1024} KiB; files may be at most 64 KiB."
    ]
    assert CloudConnection.objects.get(pk=draft.pk).secret is None
    assert key["private_key"].splitlines()[1] not in response.content.decode()


def test_uploads_are_bounded_while_they_are_received(rf: Any) -> None:
    """Past 64 KiB an upload is only counted, so a huge file costs no memory before it is refused."""
    body = b"x" * (1024 * 1024)
    request = rf.post("/", {"key_json": SimpleUploadedFile("key.json", body)})
    request.upload_handlers = [BoundedUploadHandler(request)]
    upload = request.FILES["key_json"]
    assert upload.size == len(body)
    assert len(upload.read()) == MAX_UPLOAD_BYTES + 1


def test_the_details_form_still_checks_the_csrf_token(owner: Any, draft: CloudConnection) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    assert client.post(url("connection_details", draft), s3_details_static()).status_code == 403
    assert CloudConnection.objects.get(pk=draft.pk).config == {}


def test_a_key_file_within_the_limit_is_read_and_checked(owner: Any, space: Space) -> None:
    draft = start_draft(space.organization, Method.GCP_SERVICE_ACCOUNT_KEY, created_by=owner)
    client = client_for(owner)
    not_a_key = SimpleUploadedFile("key.json", json.dumps({"type": "authorized_user"}).encode())
    refused = client.post(
        url("connection_details", draft), {"name": "gcs", "bucket": "acme-data", "key_json": not_a_key}
    )
    assert field_errors(refused, "id_key_json") == [
        "This is not a service-account key: its &quot;type&quot; must be &quot;service_account&quot;."
    ]
    key = SimpleUploadedFile("key.json", json.dumps(service_account_key()).encode())
    accepted = client.post(url("connection_details", draft), {"name": "gcs", "bucket": "bad bucket", "key_json": key})
    assert field_errors(accepted, "id_key_json") == []
    assert field_errors(accepted, "id_bucket")
    binary = SimpleUploadedFile("key.json", b"\xff\xfe\x00garbage")
    response = client.post(url("connection_details", draft), {"name": "gcs", "bucket": "acme-data", "key_json": binary})
    assert field_errors(response, "id_key_json") == ["This file is not text; upload the JSON or PEM file itself."]
    assert CloudConnection.objects.get(pk=draft.pk).secret is None


# --- validation, editing, disabling ---


def test_submitting_the_details_validates_for_real_and_shows_every_check(
    owner: Any, valid_connection: CloudConnection
) -> None:
    html = client_for(owner).get(url("connection", valid_connection)).content.decode()
    states = re.findall(r'data-operation="(\w+)" data-state="(\w+)"', html)
    assert states == [(op, "passed") for op in ("authenticate", "list", "write", "read", "delete")]
    assert "The connection works" in html
    assert "hx-trigger" not in html
    valid_connection.organization.refresh_from_db()
    assert active_connection(valid_connection.organization) == valid_connection


def test_a_wrong_secret_shows_the_failure_its_hint_and_the_skipped_steps(
    owner: Any,
    valid_connection: CloudConnection,
    rclone_s3: RcloneS3,
    bucket: str,
    django_capture_on_commit_callbacks: Any,
) -> None:
    client = client_for(owner)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            url("connection_details", valid_connection), s3_details(rclone_s3, bucket, secret_access_key="x" * 40)
        )
    valid_connection.refresh_from_db()
    assert valid_connection.status == Status.INVALID
    partial = client.get(url("connection_report", valid_connection), headers={"HX-Request": "true"})
    html = partial.content.decode()
    rows = dict(re.findall(r'data-operation="(\w+)" data-state="(\w+)"', html))
    failed = [
        check for check in valid_connection.validation_report["checks"] if not check["ok"] and not check["skipped"]
    ]
    assert rows[failed[0]["operation"]] == "failed"
    assert "skipped" in rows.values()
    assert failed[0]["hint"]
    assert f"<strong>What to fix:</strong> {escape(failed[0]['hint'])}" in html
    assert 'id="connection-status" hx-swap-oob="true"' in html
    assert "x" * 40 not in html


def test_the_report_partial_renders_each_kind_of_check_and_polls_only_while_validating(
    owner: Any, draft: CloudConnection
) -> None:
    draft.status = Status.VALID
    draft.validation_report = {
        "checked_at": "2025-01-01T12:00:00+00:00",
        "status": Status.VALID,
        "retrying": False,
        "checks": [
            {"operation": "authenticate", "ok": True, "message": "Signed in.", "duration_ms": 12},
            {"operation": "list", "ok": True, "message": "Listed 0 object(s)."},
            {
                "operation": "external_id",
                "ok": True,
                "warning": True,
                "message": "Role accepts no ExternalId.",
                "hint": "Add the sts:ExternalId condition.",
            },
            {"operation": "write", "ok": False, "message": "Access denied.", "hint": "Allow s3:PutObject."},
            {"operation": "read", "ok": False, "skipped": True, "message": "Not attempted: an earlier step failed."},
        ],
    }
    draft.save()
    client = client_for(owner)
    html = client.get(url("connection_report", draft)).content.decode()
    assert re.findall(r'data-operation="(\w+)" data-state="(\w+)"', html) == [
        ("authenticate", "passed"),
        ("list", "passed"),
        ("external_id", "warning"),
        ("write", "failed"),
        ("read", "skipped"),
    ]
    for text in (
        "ExternalId condition",
        "Role accepts no ExternalId.",
        "Add the sts:ExternalId condition.",
        "Allow s3:PutObject.",
        "12 ms",
    ):
        assert text in html
    assert "hx-get" not in html and "hx-swap-oob" not in html
    draft.status = Status.VALIDATING
    draft.save()
    html = client.get(url("connection_report", draft)).content.decode()
    assert f'hx-get="{url("connection_report", draft)}" hx-trigger="every 1s"' in html
    assert re.findall(r'data-operation="(\w+)" data-state="(\w+)"', html) == [
        (op, "pending") for op in ("authenticate", "list", "write", "read", "delete")
    ]
    page = client.get(url("connection", draft)).content.decode()
    assert "vendor/htmx.min.js" in page and "hx-trigger" in page


def test_editing_keeps_the_stored_secret_when_its_field_is_left_empty(
    owner: Any,
    valid_connection: CloudConnection,
    rclone_s3: RcloneS3,
    bucket: str,
    django_capture_on_commit_callbacks: Any,
) -> None:
    client = client_for(owner)
    form = client.get(url("connection_details", valid_connection)).content.decode()
    assert "A value is stored, encrypted. Leave this empty to keep it." in form
    assert f'value="{bucket}"' in form
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url("connection_details", valid_connection),
            s3_details(rclone_s3, bucket, name="renamed-store", secret_access_key=""),
        )
    assert response["Location"] == reverse("connection", args=["acme", "renamed-store"])
    valid_connection.refresh_from_db()
    assert valid_connection.name == "renamed-store"
    assert valid_connection.status == Status.VALID
    assert valid_connection.secret == {"secret_access_key": rclone_s3.key.secret_access_key}


def test_secrets_never_appear_on_any_page(
    owner: Any, valid_connection: CloudConnection, rclone_s3: RcloneS3, bucket: str
) -> None:
    client = client_for(owner)
    secret = rclone_s3.key.secret_access_key
    pages = [*connection_urls(valid_connection), url("connection_list"), reverse("organization", args=["acme"])]
    for page_url in pages:
        html = client.get(page_url).content.decode()
        assert secret not in html, page_url
    rejected = client.post(url("connection_details", valid_connection), s3_details(rclone_s3, "Bad_Bucket"))
    assert rejected.status_code == 400
    assert secret not in rejected.content.decode()
    status_page = client.get(url("connection", valid_connection)).content.decode()
    assert "Stored, encrypted" in status_page


def test_disable_and_enable(
    owner: Any, valid_connection: CloudConnection, django_capture_on_commit_callbacks: Any
) -> None:
    client = client_for(owner)
    client.post(url("connection_disable", valid_connection))
    valid_connection.refresh_from_db()
    assert valid_connection.status == Status.DISABLED
    page = client.get(url("connection", valid_connection)).content.decode()
    assert "Enable and validate" in page and "Validate again" not in page
    edit = client.get(url("connection_details", valid_connection))
    assert edit["Location"] == url("connection", valid_connection)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url("connection_enable", valid_connection))
    valid_connection.refresh_from_db()
    assert valid_connection.status == Status.VALID


def test_validate_again_runs_a_new_validation_and_refuses_incomplete_drafts(
    owner: Any, valid_connection: CloudConnection, django_capture_on_commit_callbacks: Any
) -> None:
    client = client_for(owner)
    before = valid_connection.validation_report["checked_at"]
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url("connection_validate", valid_connection))
    valid_connection.refresh_from_db()
    assert valid_connection.validation_report["checked_at"] != before
    empty = start_draft(valid_connection.organization, Method.AWS_ACCESS_KEYS, created_by=owner)
    response = client.post(url("connection_validate", empty), follow=True)
    assert response.redirect_chain[-1][0] == url("connection_details", empty)
    assert "This draft is incomplete" in response.content.decode()
    assert CloudConnection.objects.get(pk=empty.pk).status == Status.DRAFT


# --- entry points ---


def test_the_organization_page_has_a_storage_card_for_admins_only(
    owner: Any, member: Any, valid_connection: CloudConnection
) -> None:
    html = client_for(owner).get(reverse("organization", args=["acme"])).content.decode()
    card = re.search(r'<section class="card" id="storage">(.*?)</section>', html, re.S)
    assert card, "no storage card"
    assert "s3-store" in card.group(1) and "badge-conn-valid" in card.group(1)
    assert url("connection_new") in card.group(1)
    member_html = client_for(member).get(reverse("organization", args=["acme"])).content.decode()
    assert 'id="storage"' not in member_html and url("connection_new") not in member_html


def test_the_storage_card_invites_to_connect_when_there_is_nothing(owner: Any, space: Space) -> None:
    html = client_for(owner).get(reverse("organization", args=["acme"])).content.decode()
    assert "No storage is connected yet." in html
    assert "Connect storage" in html
