"""The space page's "Get access" card, against a real ``rclone serve s3`` connection.

The connection is a real store (rclone checks SigV4), marked valid as the validation run would
leave it, so ``issue()`` and the presigned vendor run for real and the URLs the page shows are
used with plain HTTP, the way a person's curl would use them.
"""

from __future__ import annotations

import html
import re
import uuid
from typing import Any

import pytest
import requests
from django.test import Client
from django.urls import reverse

from connections.models import CloudConnection, Status
from connections.providers.registry import forget_clients
from portal.audit import journal
from portal.audit.models import AuditEvent
from portal.tenancy.grants import Grant, Role, Scope
from portal.tenancy.models import Organization, Space
from tests.conftest import make_user
from tests.emulators import RcloneS3
from tests.pages_support import client_for
from tests.valid_connections import valid_connection

PAGE = "/o/acme/s/raw/"
ISSUE = "/o/acme/s/raw/credentials/"


@pytest.fixture(autouse=True)
def fresh_clients() -> None:
    forget_clients()


@pytest.fixture
def bucket(rclone_s3: RcloneS3) -> str:
    name = f"acme-{uuid.uuid4().hex[:8]}"
    rclone_s3.client().create_bucket(Bucket=name)
    return name


@pytest.fixture
def connection(organization: Organization, rclone_s3: RcloneS3, bucket: str) -> CloudConnection:
    return connect_rclone(organization, rclone_s3, bucket)


def connect_rclone(organization: Organization, rclone_s3: RcloneS3, bucket: str) -> CloudConnection:
    """The organization's storage: ``bucket`` on rclone's S3 server under ``spaceport/``, valid."""
    values = {
        "endpoint": rclone_s3.endpoint_url,
        "bucket": bucket,
        "prefix": "spaceport",
        "access_key_id": rclone_s3.key.access_key_id,
        "secret_access_key": rclone_s3.key.secret_access_key,
        "verify_tls": False,
    }
    return valid_connection(organization, "s3_static_keys", values)


def secret_value(response: Any, label: str) -> str:
    """The value of the read-only input the page labels ``label``, as a person would copy it."""
    page = response.content.decode()
    found = re.search(r'<label for="(credential-secret-\d+)">' + re.escape(label) + "</label>", page)
    assert found, f"no credential value labelled {label!r} on the page"
    value = re.search(rf'id="{found.group(1)}" type="text" value="([^"]*)"', page)
    assert value
    return html.unescape(value.group(1))


def offered(response: Any) -> list[str]:
    return re.findall(
        r'<button class="offer [^"]*" type="submit" name="access" value="(\w+)"', response.content.decode()
    )


def field_errors(response: Any, field_id: str) -> list[str]:
    """The error messages rendered right after the field with this id."""
    page = response.content.decode()
    match = re.search(rf'id="{re.escape(field_id)}".*?(?=<div class="field|</form>)', page, re.S)
    assert match, f"field {field_id} is not on the page"
    return [html.unescape(m) for m in re.findall(r'<p class="field-error"[^>]*>(.*?)</p>', match.group(0), re.S)]


def issued_events() -> list[AuditEvent]:
    journal.drain()
    return list(AuditEvent.objects.filter(action="credential.issue"))


def test_the_member_is_offered_what_the_supplier_role_allows(
    member: Any, space: Space, connection: CloudConnection
) -> None:
    response = client_for(member).get(PAGE)
    assert response.status_code == 200
    assert offered(response) == ["read", "write", "upload"]
    assert 'name="object_keys"' in response.content.decode(), "a presigned store needs the objects named"
    assert f'hx-post="{ISSUE}"' in response.content.decode()


def test_a_read_credential_lists_the_space_with_plain_http(
    member: Any, space: Space, connection: CloudConnection, rclone_s3: RcloneS3, bucket: str
) -> None:
    store = rclone_s3.client()
    store.put_object(Bucket=bucket, Key="spaceport/raw/seed.csv", Body=b"seed")
    store.put_object(Bucket=bucket, Key="spaceport/other/hidden.csv", Body=b"hidden")

    response = client_for(member).post(ISSUE, {"access": "read", "lifetime_minutes": "15"})

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    page = response.content.decode()
    assert "<html" in page, "without htmx the whole space page comes back"
    assert "Presigned URLs" in page and "Shown only now." in page
    assert 'data-countdown="' in page
    listing = requests.get(secret_value(response, "Listing URL"), timeout=10)
    assert listing.status_code == 200
    assert "spaceport/raw/seed.csv" in listing.text and "hidden.csv" not in listing.text
    assert html.escape("curl -fsS") in page
    (event,) = issued_events()
    assert event.actor == member
    assert event.details["access"] == "read"


def test_a_write_credential_for_named_objects_uploads_them(
    member: Any, space: Space, connection: CloudConnection, rclone_s3: RcloneS3, bucket: str
) -> None:
    response = client_for(member).post(
        ISSUE, {"access": "write", "object_keys": "new/run.csv\n\n"}, headers={"HX-Request": "true"}
    )

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    page = response.content.decode()
    assert "<html" not in page and page.lstrip().startswith("<section"), "htmx gets the card alone"
    assert 'id="get-access"' in page
    upload = requests.put(secret_value(response, "URL for new/run.csv"), data=b"run", timeout=10)
    assert upload.status_code == 200
    assert rclone_s3.client().get_object(Bucket=bucket, Key="spaceport/raw/new/run.csv")["Body"].read() == b"run"


def test_delete_is_not_offered_and_a_forged_request_is_refused(
    member: Any, space: Space, connection: CloudConnection
) -> None:
    client = client_for(member)
    assert "delete" not in offered(client.get(PAGE))

    response = client.post(ISSUE, {"access": "delete", "object_keys": "seed.csv"}, headers={"HX-Request": "true"})

    assert response.status_code == 403
    page = response.content.decode()
    assert "You may not delete in acme/raw." in page
    assert "X-Amz-Signature" not in page
    assert issued_events() == []
    journal.drain()
    refused = AuditEvent.objects.get(action="credential.refuse")
    assert refused.details["reason"] == "delete_denied"


def test_the_loadingzone_upload_opens_the_loadingzone(member: Any, space: Space, connection: CloudConnection) -> None:
    response = client_for(member).post(ISSUE, {"access": "upload", "object_keys": "drop.csv"})
    assert response.status_code == 200
    assert "/spaceport/loadingzone/drop.csv" in secret_value(response, "URL for drop.csv")
    (event,) = issued_events()
    assert (event.details["target"], event.details["access"]) == ("loadingzone", "write")


def test_an_outsider_finds_nothing(outsider: Any, space: Space, connection: CloudConnection) -> None:
    client = client_for(outsider)
    assert client.get(PAGE).status_code == 404
    assert client.post(ISSUE, {"access": "read"}).status_code == 404
    assert issued_events() == []


def test_issuing_needs_a_signed_in_post(client: Client, member: Any, space: Space) -> None:
    assert client.post(ISSUE, {"access": "read"}).status_code == 302
    assert client_for(member).get(ISSUE).status_code == 405


def test_issuing_needs_the_csrf_token(member: Any, space: Space, connection: CloudConnection) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(member)
    card = client.get(PAGE).content.decode().split('id="get-access"', 1)[1]
    assert 'name="csrfmiddlewaretoken"' in card
    assert client.post(ISSUE, {"access": "read"}).status_code == 403
    assert issued_events() == []


def test_without_storage_the_card_says_whom_to_ask(member: Any, space: Space) -> None:
    client = client_for(member)
    page = client.get(PAGE).content.decode()
    assert "The organization has no storage connected yet." in page
    assert "Ask an organization admin to connect storage to acme." in page
    assert offered(client.get(PAGE)) == [], "no buttons that cannot work"

    response = client.post(ISSUE, {"access": "read"}, headers={"HX-Request": "true"})
    assert response.status_code == 409
    assert "Ask an organization admin to connect storage" in response.content.decode()


def test_the_owner_is_sent_to_connect_storage(owner: Any, space: Space) -> None:
    Grant.objects.create(user=owner, scope=Scope.ORGANIZATION, role=Role.TRUSTEE, organization=space.organization)
    page = client_for(owner).get(PAGE).content.decode()
    assert "you can fix this yourself" in page
    assert f'href="{reverse("connection_new", args=["acme"])}"' in page


@pytest.mark.parametrize(
    ("state", "advice"),
    [
        (Status.DISABLED, "enable the storage connection of acme again"),
        (Status.INVALID, "fix the storage connection of acme and validate it"),
    ],
)
def test_an_unusable_connection_says_what_to_do(
    member: Any, space: Space, connection: CloudConnection, state: str, advice: str
) -> None:
    CloudConnection.objects.filter(pk=connection.pk).update(status=state)
    response = client_for(member).post(ISSUE, {"access": "read"})
    assert response.status_code == 409
    assert advice in response.content.decode()
    assert issued_events() == []


def test_the_rate_limit_says_when_to_try_again(
    member: Any, space: Space, connection: CloudConnection, settings: Any
) -> None:
    settings.SPACEPORT_CREDENTIAL_RATE_LIMIT_PER_MINUTE = 0
    response = client_for(member).post(ISSUE, {"access": "read"}, headers={"HX-Request": "true"})
    assert response.status_code == 429
    retry = int(response["Retry-After"])
    assert 0 < retry <= 60
    page = response.content.decode()
    assert "Too many credentials requested" in page
    assert f"the buttons work again in {retry} second" in page
    assert offered(response) == ["read", "write", "upload"], "the buttons stay for the next try"


def test_object_keys_are_checked_next_to_the_field(member: Any, space: Space, connection: CloudConnection) -> None:
    client = client_for(member)

    missing = client.post(ISSUE, {"access": "write"})
    assert missing.status_code == 400
    assert any("name the objects to write" in error for error in field_errors(missing, "id_object_keys"))

    escaping = client.post(ISSUE, {"access": "write", "object_keys": "../other/secret.csv"})
    assert escaping.status_code == 400
    assert field_errors(escaping, "id_object_keys") == ["Object keys cannot contain '.' or '..' path segments."]
    assert "../other/secret.csv" in escaping.content.decode(), "what was typed stays in the field"
    assert issued_events() == []


def test_a_lifetime_over_the_maximum_names_the_limit(
    member: Any, space: Space, connection: CloudConnection, settings: Any
) -> None:
    settings.SPACEPORT_CREDENTIAL_MAX_LIFETIME_MINUTES = {"read": 30, "write": 15, "delete": 5}
    response = client_for(member).post(ISSUE, {"access": "read", "lifetime_minutes": "31"})
    assert response.status_code == 400
    assert field_errors(response, "id_lifetime_minutes") == [
        "Choose a lifetime between 1 and 30 minutes for read access."
    ]


def test_someone_without_data_access_sees_why(organization: Organization, space: Space) -> None:
    admin = make_user("admin@example.com")
    Grant.objects.create(user=admin, scope=Scope.ORGANIZATION, role=Role.ADMIN, organization=organization)
    response = client_for(admin).get(PAGE)
    assert response.status_code == 200
    page = response.content.decode()
    assert "No credentials for you here" in page
    assert "lets you manage this space, not use its data" in page
    assert offered(response) == []
    assert client_for(admin).post(ISSUE, {"access": "read"}).status_code == 403


def connect_aws(organization: Organization) -> CloudConnection:
    """An Amazon S3 connection by cross-account role, marked valid; the page only reads where it points."""
    values = {
        "role_arn": "arn:aws:iam::123456789012:role/spaceport",
        "bucket": "acme-lab",
        "region": "eu-central-1",
        "prefix": "spaceport",
    }
    return valid_connection(organization, "aws_cross_account_role", values, name="aws")


def aws_profile(response: Any) -> str:
    found = re.search(
        r'<pre class="code" id="aws-profile" data-aws-profile>(.*?)</pre>', response.content.decode(), re.S
    )
    assert found, "no ~/.aws/config profile on the page"
    return html.unescape(found.group(1))


def test_an_aws_space_shows_the_profile_for_long_jobs(member: Any, space: Space, organization: Organization) -> None:
    connect_aws(organization)
    response = client_for(member).get(PAGE)
    assert response.status_code == 200
    assert aws_profile(response) == (
        "[profile acme-raw]\n"
        "credential_process = spaceport credentials --url http://testserver --organization acme --space raw "
        "--access write --format aws\n"
        "region = eu-central-1"
    )
    assert "aws s3 ls --profile acme-raw s3://acme-lab/spaceport/raw/" in response.content.decode()


def test_a_reader_gets_a_read_profile(organization: Organization, space: Space) -> None:
    reader = make_user("reader@example.com")
    Grant.objects.create(user=reader, scope=Scope.ORGANIZATION, role=Role.ACCESS, organization=organization)
    Grant.objects.create(user=reader, scope=Scope.SPACE, role=Role.USER, organization=organization, space=space)
    connect_aws(organization)
    assert "--access read --format aws" in aws_profile(client_for(reader).get(PAGE))


def test_stores_without_aws_keys_show_no_profile(member: Any, space: Space, connection: CloudConnection) -> None:
    response = client_for(member).get(PAGE)
    assert response.status_code == 200
    assert "data-aws-profile" not in response.content.decode()
    assert "Get access" in response.content.decode()


def test_no_profile_where_no_credential_can_be_had(member: Any, space: Space, organization: Organization) -> None:
    connection = connect_aws(organization)
    CloudConnection.objects.filter(pk=connection.pk).update(status=Status.DISABLED)
    assert "data-aws-profile" not in client_for(member).get(PAGE).content.decode()
