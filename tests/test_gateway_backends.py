"""The gateway re-signs each request with the space's connection credentials, whatever they are.

AWS long-term keys and an assumed role against moto (which checks SigV4 and the IAM policy of
whoever signs); IBM COS with an API key against a loopback stand-in that accepts only
``Authorization: bearer <token>`` with a token the test IAM endpoint issued. The stand-in is
there because no IBM COS server exists to run here; moto and rclone cannot check bearer tokens.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
import requests
from aiohttp import web
from botocore.exceptions import ClientError

from accessgrants.accesskeys import issue_key
from connections.active import make_active
from connections.methods import Method
from connections.models import CloudConnection
from connections.providers.aws import client as aws
from connections.providers.registry import forget_clients
from connections.storage import NotSignable, client_for, request_signer_for
from gateway.server import S3_NS
from portal.tenancy.changes import create_organization, create_space
from portal.tenancy.grants import Grant, Role, Scope
from tests.emulators import LOOPBACK, MotoServer, RcloneS3, free_port
from tests.fixtures.emulators import use_spaceport_principal
from tests.gateway_live import code_of, s3_for
from tests.gateway_process import serving_app, serving_gateway
from tests.test_provider_aws import Clock, bucket_policy, connect, create_role, keys_connection
from tests.test_provider_azure import make_connection as azure_connection
from tests.test_provider_ibm import API_KEY, INSTANCE, Loopback, iam  # noqa: F401
from tests.test_provider_ibm import connect as ibm_connection
from tests.test_provider_s3compat import connect as s3compat_connection
from tests.test_provider_s3compat import connect_new_bucket, rclone_over_tls

pytestmark = pytest.mark.django_db(transaction=True)

OBJECT_ACTIONS = ["s3:ListBucket", "s3:GetObject", "s3:PutObject", "s3:DeleteObject"]


@pytest.fixture(scope="module")
def gateway_url() -> Iterator[str]:
    with serving_gateway() as url:
        yield url


@pytest.fixture(autouse=True)
def fresh_clients(moto_server: MotoServer, settings: Any) -> Iterator[None]:
    settings.SPACEPORT_AWS_STS_ENDPOINT = moto_server.endpoint_url
    forget_clients()
    yield
    forget_clients()


@pytest.fixture
def writer(space: Any, member: Any, organization: Any) -> Any:
    """``member`` may read, write and delete in ``acme-raw``; a key of theirs."""
    Grant.objects.filter(space=space, user=member).update(role=Role.TRUSTEE)
    return issue_key(member, organization)


@pytest.fixture
def moto_bucket(moto_server: MotoServer) -> str:
    name = f"spaceport-{secrets.token_hex(4)}"
    moto_server.client("s3").create_bucket(Bucket=name)
    return name


def round_trip(gateway_url: str, issued: Any) -> list[str]:
    """Put, list, read (whole and ranged), head and delete through the gateway; the keys listed."""
    s3 = s3_for(gateway_url, issued)
    s3.put_object(Bucket="acme-raw", Key="runs/a.csv", Body=b"a,b\n1,2\n", ContentType="text/csv")
    listed = [item["Key"] for item in s3.list_objects_v2(Bucket="acme-raw", Prefix="runs/").get("Contents", [])]
    got = s3.get_object(Bucket="acme-raw", Key="runs/a.csv")
    assert got["Body"].read() == b"a,b\n1,2\n" and got["ContentType"] == "text/csv"
    assert s3.get_object(Bucket="acme-raw", Key="runs/a.csv", Range="bytes=2-4")["Body"].read() == b"b\n1"
    assert s3.head_object(Bucket="acme-raw", Key="runs/a.csv")["ContentLength"] == 8
    s3.delete_object(Bucket="acme-raw", Key="runs/a.csv")
    with pytest.raises(ClientError) as gone:
        s3.get_object(Bucket="acme-raw", Key="runs/a.csv")
    assert code_of(gone.value) == "NoSuchKey"
    return listed


def test_aws_long_term_keys(
    gateway_url: str, writer: Any, organization: Any, moto_server: MotoServer, moto_bucket: str
) -> None:
    _, key = moto_server.create_user(f"writer-{secrets.token_hex(3)}", bucket_policy(moto_bucket, OBJECT_ACTIONS))
    make_active(keys_connection(organization, moto_server, moto_bucket, key))

    assert round_trip(gateway_url, writer) == ["runs/a.csv"]
    s3_for(gateway_url, writer).put_object(Bucket="acme-raw", Key="kept.txt", Body=b"kept")
    stored = moto_server.client("s3").get_object(Bucket=moto_bucket, Key="raw/kept.txt")
    assert stored["Body"].read() == b"kept"


def test_a_store_refusing_the_connection_is_unavailable_not_a_leak(
    gateway_url: str, writer: Any, organization: Any, moto_server: MotoServer, moto_bucket: str
) -> None:
    _, key = moto_server.create_user(f"reader-{secrets.token_hex(3)}", bucket_policy(moto_bucket, ["s3:GetObject"]))
    make_active(keys_connection(organization, moto_server, moto_bucket, key))
    with pytest.raises(ClientError) as refused:
        s3_for(gateway_url, writer).put_object(Bucket="acme-raw", Key="x.txt", Body=b"x")
    assert code_of(refused.value) == "ServiceUnavailable"
    assert moto_bucket not in str(refused.value.response)


@pytest.fixture
def role_connection(organization: Any, moto_server: MotoServer, moto_bucket: str, settings: Any) -> Any:
    principal_arn, _ = use_spaceport_principal(moto_server, settings)
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": principal_arn}, "Action": "sts:AssumeRole"}],
    }
    values = {
        "role_arn": create_role(moto_server, moto_bucket, trust),
        "bucket": moto_bucket,
        "region": "us-east-1",
        "endpoint_url": moto_server.endpoint_url,
    }
    connection = connect(organization, Method.AWS_CROSS_ACCOUNT_ROLE, values)
    make_active(connection)
    return connection


def test_an_assumed_role_signs_with_its_session(
    gateway_url: str, writer: Any, role_connection: Any, moto_server: MotoServer, moto_bucket: str
) -> None:
    assert round_trip(gateway_url, writer) == ["runs/a.csv"]
    s3_for(gateway_url, writer).put_object(Bucket="acme-raw", Key="role.txt", Body=b"by role")
    assert moto_server.client("s3").get_object(Bucket=moto_bucket, Key="raw/role.txt")["Body"].read() == b"by role"

    signer = request_signer_for(role_connection)
    headers = signer.signed_headers("GET", f"{signer.endpoint}/{moto_bucket}/raw/role.txt", {})
    assert headers["X-Amz-Security-Token"]
    role = client_for(role_connection).role  # type: ignore[attr-defined]
    assert role.assumed_arn and f"Credential={role.credentials.access_key}/" in headers["Authorization"]


def test_the_role_session_is_refreshed_before_it_expires(
    role_connection: Any, moto_server: MotoServer, moto_bucket: str
) -> None:
    """The signer asks the client's refreshable credentials on every request: near the end of a
    session it signs with a new one, which moto accepts."""
    clock = Clock()
    client = aws.build_client(role_connection, clock=clock)
    signer = client.request_signer()
    url = f"{signer.endpoint}/{moto_bucket}/raw/fresh.txt"

    def key_of(headers: dict[str, str]) -> str:
        return headers["Authorization"].split("Credential=")[1].split("/")[0]

    first = signer.signed_headers("PUT", url, {"content-length": "5"})
    assert requests.put(url, data=b"fresh", headers=first, timeout=10).status_code == 200
    assert client.role.expires_at is not None
    clock.now = client.role.expires_at - timedelta(minutes=5)
    second = signer.signed_headers("GET", url, {})
    assert key_of(second) != key_of(first)
    clock.now = None
    answer = requests.get(url, headers=signer.signed_headers("GET", url, {}), timeout=10)
    assert answer.status_code == 200 and answer.content == b"fresh"


def test_signers_are_one_per_connection_and_follow_its_changes(
    organization: Any, owner: Any, rclone_s3: RcloneS3
) -> None:
    mine = connect_new_bucket(organization, rclone_s3)
    other = create_organization(name="globex", display_name="Globex", owner=owner)
    theirs = connect_new_bucket(other, rclone_s3)

    signer = request_signer_for(mine)
    assert request_signer_for(mine) is signer
    assert request_signer_for(theirs) is not signer
    mine.name = "renamed"
    mine.save()
    assert request_signer_for(mine) is not signer
    assert rclone_s3.key.secret_access_key not in repr(signer)


def test_azure_and_gcs_spaces_point_to_credential_vending(gateway_url: str, writer: Any, organization: Any) -> None:
    endpoint = f"http://{LOOPBACK}:{free_port()}/devstoreaccount1"
    make_active(
        azure_connection(
            organization,
            Method.AZURE_CONNECTION_STRING,
            {
                "connection_string": f"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"
                f"AccountKey={'a' * 86}==;BlobEndpoint={endpoint};"
            },
        )
    )
    with pytest.raises(NotSignable):
        client_for(CloudConnection.objects.get(organization=organization, active=True)).request_signer()
    with pytest.raises(ClientError) as refused:
        s3_for(gateway_url, writer).get_object(Bucket="acme-raw", Key="a.txt")
    assert code_of(refused.value) == "NotImplemented"
    assert "/api/v1/organizations/acme/spaces/raw/credentials/" in refused.value.response["Error"]["Message"]


# --- IBM COS with an API key, through a stand-in that checks bearer tokens -------------------


class CosStandIn:
    """A path-style object store in memory that serves only requests bearing a token IAM issued."""

    def __init__(self, issuer: Loopback) -> None:
        self.iam = issuer
        self.objects: dict[str, bytes] = {}
        self.refused = 0
        self.app = web.Application(client_max_size=0)
        self.app.router.add_route("*", "/{tail:.*}", self.handle)

    def _error(self, status: int, code: str) -> web.Response:
        body = f"<Error><Code>{code}</Code><Message>{code}</Message></Error>"
        return web.Response(status=status, text=body, content_type="application/xml")

    async def handle(self, request: web.Request) -> web.StreamResponse:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme != "bearer" or token not in self.iam.issued:
            self.refused += 1
            return self._error(403, "AccessDenied")
        path = unquote(request.raw_path.split("?", 1)[0])
        if request.method == "GET" and request.query.get("list-type") == "2":
            return self._listing(path.strip("/"), request.query.get("prefix", ""))
        if request.method == "PUT":
            self.objects[path] = await request.read()
            return web.Response(headers={"ETag": f'"{hashlib.md5(self.objects[path]).hexdigest()}"'})  # noqa: S324
        if request.method == "DELETE":
            self.objects.pop(path, None)
            return web.Response(status=204)
        if path not in self.objects:
            return self._error(404, "NoSuchKey")
        data = self.objects[path]
        headers = {"Content-Length": str(len(data)), "Content-Type": "text/csv"}
        if request.method == "HEAD":
            return web.Response(headers=headers)
        if request.http_range.start is not None:
            start, stop = request.http_range.start, min(request.http_range.stop or len(data), len(data))
            headers = {"Content-Range": f"bytes {start}-{stop - 1}/{len(data)}", "Content-Type": "text/csv"}
            return web.Response(status=206, body=data[start:stop], headers=headers)
        return web.Response(body=data, headers={"Content-Type": "text/csv"})

    def _listing(self, bucket: str, prefix: str) -> web.Response:
        keys = sorted(p.split("/", 2)[2] for p in self.objects if p.startswith(f"/{bucket}/{prefix}"))
        contents = "".join(
            f"<Contents><Key>{key}</Key><Size>{len(self.objects[f'/{bucket}/{key}'])}</Size></Contents>" for key in keys
        )
        body = (
            f'<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="{S3_NS}"><Name>{bucket}</Name>'
            f"<Prefix>{prefix}</Prefix><KeyCount>{len(keys)}</KeyCount><IsTruncated>false</IsTruncated>"
            f"{contents}</ListBucketResult>"
        )
        return web.Response(text=body, content_type="application/xml")


@pytest.fixture
def cos_standin(iam: Loopback) -> Iterator[tuple[CosStandIn, str]]:  # noqa: F811
    store = CosStandIn(iam)
    with serving_app(store.app) as url:
        yield store, url


def test_ibm_api_key_requests_carry_an_iam_bearer_token(
    gateway_url: str,
    writer: Any,
    organization: Any,
    iam: Loopback,  # noqa: F811
    cos_standin: tuple[CosStandIn, str],
) -> None:
    store, url = cos_standin
    values = {
        "endpoint": url,
        "bucket": "cos-bucket",
        "api_key": API_KEY,
        "service_instance_id": INSTANCE,
        "iam_url": iam.url,
    }
    make_active(ibm_connection(organization, Method.IBM_API_KEY, values))

    assert (
        requests.get(f"{url}/cos-bucket/raw/a.csv", headers={"Authorization": "bearer forged"}, timeout=5).ok is False
    )
    assert requests.put(f"{url}/cos-bucket/raw/a.csv", data=b"x", timeout=5).status_code == 403
    assert store.refused == 2 and store.objects == {}

    assert round_trip(gateway_url, writer) == ["runs/a.csv"]
    s3_for(gateway_url, writer).put_object(Bucket="acme-raw", Key="kept.csv", Body=b"kept")
    assert store.objects == {"/cos-bucket/raw/kept.csv": b"kept"}
    assert store.refused == 2
    assert len(iam.issued) == 1


def test_ibm_hmac_keys_sign_with_sigv4(gateway_url: str, writer: Any, organization: Any, rclone_s3: RcloneS3) -> None:
    """IBM COS HMAC keys are S3 keys: rclone stands in for COS and checks the signature."""
    bucket = f"cos-{secrets.token_hex(4)}"
    rclone_s3.client().create_bucket(Bucket=bucket)
    values = {
        "endpoint": rclone_s3.endpoint_url,
        "bucket": bucket,
        "access_key_id": rclone_s3.key.access_key_id,
        "secret_access_key": rclone_s3.key.secret_access_key,
    }
    make_active(ibm_connection(organization, Method.IBM_HMAC, values))
    assert round_trip(gateway_url, writer) == ["runs/a.csv"]


def test_a_self_signed_store_is_reached_only_by_the_connection_that_turns_checks_off(
    gateway_url: str, writer: Any, organization: Any, member: Any, rclone_s3: RcloneS3, tmp_path: Path
) -> None:
    """``verify_tls: false`` is the connection's own choice: another organization's connection to
    the same store, checking certificates, is still refused after the first one got through."""
    keys = (rclone_s3.key.access_key_id, rclone_s3.key.secret_access_key)
    bucket = f"tls-{secrets.token_hex(4)}"
    rclone_s3.client().create_bucket(Bucket=bucket)
    other = create_organization(name="globex", display_name="Globex", owner=member)
    theirs = create_space(other, name="raw", description="Theirs")
    Grant.objects.create(user=member, scope=Scope.SPACE, role=Role.USER, organization=other, space=theirs)
    with rclone_over_tls(rclone_s3, tmp_path) as endpoint:
        make_active(s3compat_connection(organization, endpoint, *keys, bucket=bucket))
        make_active(s3compat_connection(other, endpoint, *keys, bucket=bucket))
        acme = s3_for(gateway_url, writer)
        with pytest.raises(ClientError) as checked:
            acme.put_object(Bucket="acme-raw", Key="x.txt", Body=b"x")
        assert code_of(checked.value) == "ServiceUnavailable"

        make_active(s3compat_connection(organization, endpoint, *keys, bucket=bucket, verify_tls=False))
        acme.put_object(Bucket="acme-raw", Key="x.txt", Body=b"over tls")
        assert acme.get_object(Bucket="acme-raw", Key="x.txt")["Body"].read() == b"over tls"

        globex = s3_for(gateway_url, issue_key(member, other))
        with pytest.raises(ClientError) as still_checked:
            globex.get_object(Bucket="globex-raw", Key="x.txt")
        assert code_of(still_checked.value) == "ServiceUnavailable"
