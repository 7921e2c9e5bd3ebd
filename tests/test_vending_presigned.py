"""Presigned URLs against ``rclone serve s3``, which checks SigV4 signatures and their expiry.

The URLs are used with plain HTTP requests, as a person's curl would: no SDK, no keys.
"""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import pytest
import requests

from connections.methods import Method, Provider, clean_input
from connections.models import CloudConnection
from connections.providers.registry import forget_clients, location_for, vendor_for
from connections.providers.vending import Access, NotVendable, Scope
from portal.core.errors import DomainError
from portal.tenancy.models import Organization
from tests.conftest import assert_expires_in
from tests.emulators import RcloneS3
from tests.test_provider_s3compat import connect

S3_NAMESPACE = "{http://s3.amazonaws.com/doc/2006-03-01/}"


@pytest.fixture(autouse=True)
def fresh_clients() -> None:
    forget_clients()


@pytest.fixture
def bucket(rclone_s3: RcloneS3) -> str:
    name = f"presign-{time.monotonic_ns()}"
    rclone_s3.client().create_bucket(Bucket=name)
    return name


@pytest.fixture
def connection(organization: Organization, rclone_s3: RcloneS3, bucket: str) -> CloudConnection:
    return connect(
        organization,
        rclone_s3.endpoint_url,
        rclone_s3.key.access_key_id,
        rclone_s3.key.secret_access_key,
        bucket=bucket,
        prefix="spaceport",
    )


def vend(
    connection: CloudConnection, access: str, keys: tuple[str, ...] = (), lifetime: timedelta = timedelta(hours=1)
) -> Any:
    scope = Scope(
        connection=connection,
        location=location_for(connection, "raw"),
        access=access,
        lifetime=lifetime,
        user_id=1,
        user_label="member@example.com",
        object_keys=keys,
    )
    return vendor_for(connection).vend(scope)


def listed(url: str) -> list[str]:
    response = requests.get(url, timeout=10)
    assert response.status_code == 200, response.text
    return sorted(node.text or "" for node in xml_of(response).iter(f"{S3_NAMESPACE}Key"))


def xml_of(response: requests.Response) -> ET.Element:
    """The answer of the test's own rclone on loopback; nothing untrusted is parsed."""
    return ET.fromstring(response.content)  # noqa: S314


def test_get_put_delete_urls_work_with_plain_http(
    connection: CloudConnection, rclone_s3: RcloneS3, bucket: str
) -> None:
    store = rclone_s3.client()
    store.put_object(Bucket=bucket, Key="spaceport/raw/seed.csv", Body=b"seed")
    store.put_object(Bucket=bucket, Key="spaceport/raw-archive/old.csv", Body=b"old")
    store.put_object(Bucket=bucket, Key="outside.csv", Body=b"out")

    before = datetime.now(UTC)
    reader = vend(connection, Access.READ, ("seed.csv",), lifetime=timedelta(minutes=20))
    assert reader.kind == "s3_presigned_urls"
    assert set(reader.secret["urls"]) == {"seed.csv"}
    assert_expires_in(reader.expires_at, timedelta(minutes=20), before)
    assert requests.get(reader.secret["urls"]["seed.csv"], timeout=10).content == b"seed"
    assert listed(reader.secret["list_url"]) == ["spaceport/raw/seed.csv"]

    writer = vend(connection, Access.WRITE, ("new/run.csv", "seed.csv"))
    assert writer.secret["method"] == "PUT"
    assert requests.put(writer.secret["urls"]["new/run.csv"], data=b"run", timeout=10).status_code == 200
    assert store.get_object(Bucket=bucket, Key="spaceport/raw/new/run.csv")["Body"].read() == b"run"
    assert listed(writer.secret["list_url"]) == ["spaceport/raw/new/run.csv", "spaceport/raw/seed.csv"]

    deleter = vend(connection, Access.DELETE, ("seed.csv",))
    assert requests.delete(deleter.secret["urls"]["seed.csv"], timeout=10).status_code == 204
    assert listed(reader.secret["list_url"]) == ["spaceport/raw/new/run.csv"]
    assert "spaceport/raw-archive/old.csv" in [o["Key"] for o in store.list_objects_v2(Bucket=bucket)["Contents"]]
    assert reader.secret["urls"]["seed.csv"] in reader.snippets["curl"]
    assert "curl -fsS -X DELETE" in deleter.snippets["curl"]


def test_a_url_does_only_its_own_operation(connection: CloudConnection, rclone_s3: RcloneS3, bucket: str) -> None:
    """The method is part of the signature: a GET URL cannot be replayed as PUT or DELETE."""
    rclone_s3.client().put_object(Bucket=bucket, Key="spaceport/raw/seed.csv", Body=b"seed")
    url = vend(connection, Access.READ, ("seed.csv",)).secret["urls"]["seed.csv"]

    assert requests.put(url, data=b"overwrite", timeout=10).status_code == 403
    assert requests.delete(url, timeout=10).status_code == 403
    assert requests.get(url, timeout=10).content == b"seed"


def tampered(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = {name: values[0] for name, values in parse_qs(parts.query).items()}
    path = changes.pop("path", parts.path)
    query.update(changes)
    return urlunsplit((parts.scheme, parts.netloc, path, urlencode(query), ""))


def test_tampered_urls_are_refused(connection: CloudConnection, rclone_s3: RcloneS3, bucket: str) -> None:
    store = rclone_s3.client()
    store.put_object(Bucket=bucket, Key="spaceport/raw/seed.csv", Body=b"seed")
    store.put_object(Bucket=bucket, Key="spaceport/other/secret.csv", Body=b"other")
    credential = vend(connection, Access.READ, ("seed.csv",))
    url = credential.secret["urls"]["seed.csv"]
    list_url = credential.secret["list_url"]

    assert requests.get(tampered(url), timeout=10).status_code == 200, "untouched, the URL works"
    other = urlsplit(url).path.replace("spaceport/raw/seed.csv", "spaceport/other/secret.csv")
    assert requests.get(tampered(url, path=other), timeout=10).status_code == 403
    assert requests.get(tampered(url, **{"X-Amz-Expires": "604800"}), timeout=10).status_code == 403
    signature = parse_qs(urlsplit(url).query)["X-Amz-Signature"][0]
    forged = ("0" if signature[0] != "0" else "1") + signature[1:]
    assert requests.get(tampered(url, **{"X-Amz-Signature": forged}), timeout=10).status_code == 403
    assert requests.get(tampered(list_url, prefix="spaceport/"), timeout=10).status_code == 403
    assert requests.get(tampered(list_url, prefix="spaceport/other/"), timeout=10).status_code == 403


def test_expired_urls_are_refused(connection: CloudConnection, rclone_s3: RcloneS3, bucket: str) -> None:
    rclone_s3.client().put_object(Bucket=bucket, Key="spaceport/raw/seed.csv", Body=b"seed")
    credential = vend(connection, Access.READ, ("seed.csv",), lifetime=timedelta(seconds=1))
    assert requests.get(credential.secret["urls"]["seed.csv"], timeout=10).status_code == 200

    time.sleep(2.2)

    for url in (credential.secret["urls"]["seed.csv"], credential.secret["list_url"]):
        response = requests.get(url, timeout=10)
        assert response.status_code in (400, 403), "rclone answers 400 where AWS answers 403"
        assert xml_of(response).findtext("Code") == "AccessDenied"


def test_lifetime_is_capped_at_seven_days(connection: CloudConnection) -> None:
    credential = vend(connection, Access.READ, ("a",), lifetime=timedelta(days=30))
    expires = parse_qs(urlsplit(credential.secret["urls"]["a"]).query)["X-Amz-Expires"]
    assert expires == [str(7 * 24 * 3600)]
    assert credential.expires_at - datetime.now(UTC) <= timedelta(days=7)


@pytest.mark.parametrize(
    "keys",
    [
        ("../other/secret.csv",),
        ("a/../../x",),
        ("/etc/passwd",),
        ("",),
        ("./a",),
        ("bad\nkey",),
        ("k" * 1100,),
        tuple(f"k{n}" for n in range(101)),
    ],
)
def test_bad_object_keys_are_refused_naming_the_field(connection: CloudConnection, keys: tuple[str, ...]) -> None:
    with pytest.raises(DomainError) as raised:
        vend(connection, Access.READ, keys)
    assert raised.value.field == "object_keys"
    assert raised.value.status == 400


@pytest.mark.parametrize("access", [Access.WRITE, Access.DELETE])
def test_writing_or_deleting_needs_named_objects(connection: CloudConnection, access: str) -> None:
    with pytest.raises(DomainError) as raised:
        vend(connection, access)
    assert raised.value.field == "object_keys"
    assert raised.value.code == "object_keys_required"
    assert raised.value.message.endswith(f"cannot scope a key to a prefix; name the objects to {access}.")


def test_reading_without_names_gives_only_the_listing(connection: CloudConnection) -> None:
    credential = vend(connection, Access.READ)
    assert credential.secret["urls"] == {}
    assert credential.secret["list_url"]
    assert not vendor_for(connection).per_user


def test_duplicate_keys_are_signed_once(connection: CloudConnection) -> None:
    credential = vend(connection, Access.WRITE, ("a.csv", "a.csv", "b.csv"))
    assert list(credential.secret["urls"]) == ["a.csv", "b.csv"]


def test_ibm_api_key_connections_cannot_presign(organization: Organization) -> None:
    config, secret = clean_input(
        Method.IBM_API_KEY,
        {"endpoint": "https://s3.eu-de.cloud-object-storage.appdomain.cloud", "bucket": "cos", "api_key": "k" * 44},
    )
    connection = CloudConnection.objects.create(
        organization=organization,
        name="cos",
        provider=Provider.IBM,
        method=Method.IBM_API_KEY,
        config=config,
        secret=secret,
    )
    with pytest.raises(NotVendable) as raised:
        vendor_for(connection)
    assert raised.value.code == "presign_needs_hmac"
    assert "HMAC" in raised.value.message
    assert "k" * 44 not in raised.value.message
