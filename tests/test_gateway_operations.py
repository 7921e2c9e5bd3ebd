"""The gateway's S3 operations beyond single objects, end to end with boto3: multipart uploads,
copies, DeleteObjects, ListObjects (v1 and v2) across more than 1,000 keys, bucket questions, and
keys that try to leave their space. The store is ``rclone serve s3``; moto is the store where rclone
does not implement the operation (UploadPartCopy)."""

from __future__ import annotations

import base64
import hashlib
import http.client
import io
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import pytest
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError

from accessgrants.identitypolicies import attach, create_policy
from connections.active import make_active
from connections.storage import active_connection, location_for
from portal.tenancy.changes import create_space
from portal.tenancy.grants import Grant, Role, Scope
from portal.tenancy.models import Organization
from tests.emulators import MotoServer, RcloneS3
from tests.gateway_live import code_of, s3_for
from tests.gateway_signing import signed
from tests.test_provider_s3compat import connect

pytestmark = pytest.mark.django_db(transaction=True)
MiB = 1024 * 1024


def space_folder(rclone_s3: RcloneS3, space: str = "raw") -> Path:
    """The folder in rclone's root holding acme's ``space``. Files are put there before rclone lists
    the folder: rclone caches a folder's listing once it has read it."""
    organization = Organization.objects.get(name="acme")
    connection = active_connection(organization)
    assert connection is not None
    location = location_for(connection, space)
    return rclone_s3.root / location.bucket / location.prefix.rstrip("/")


def make_trustee() -> None:
    """The member may delete in raw too (a trustee), not only write."""
    Grant.objects.filter(space__name="raw", role=Role.SUPPLIER).update(role=Role.TRUSTEE)


def content_md5(body: bytes) -> str:
    return base64.b64encode(hashlib.md5(body).digest()).decode()  # noqa: S324 - S3 asks for MD5


def raw_request(
    gateway: str,
    issued: Any,
    method: str,
    path: str,
    query: str = "",
    body: bytes = b"",
    headers: dict[str, str] | None = None,
) -> tuple[int, bytes]:
    """A signed request sent with its path exactly as written: nothing on the client normalizes it.

    It is signed as SigV4 reads a path (decoded once, encoded once), so ``%2e`` signs as ``.``."""
    as_signed = quote(unquote(path), safe="/~")
    request = signed(
        method,
        as_signed,
        query,
        body=body,
        headers=headers,
        key_id=issued.key.access_key_id,
        secret=issued.secret_key,
        at=datetime.now(UTC),
    )
    parts = urlsplit(gateway)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    try:
        connection.putrequest(method, path + (f"?{query}" if query else ""), skip_host=True, skip_accept_encoding=True)
        for name, value in request.headers:
            connection.putheader(name, value)
        if body and not any(name.lower() == "content-length" for name, _ in request.headers):
            connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body or None)
        answer = connection.getresponse()
        return answer.status, answer.read()
    finally:
        connection.close()


def test_a_multipart_upload_of_64_mib_in_8_mib_parts(
    gateway_url: str, world: dict[str, Any], rclone_s3: RcloneS3
) -> None:
    s3 = s3_for(gateway_url, world["key"])
    body = secrets.token_bytes(64 * MiB)
    config = TransferConfig(multipart_threshold=8 * MiB, multipart_chunksize=8 * MiB, max_concurrency=4)
    s3.upload_fileobj(io.BytesIO(body), "acme-raw", "big/blob.bin", Config=config)
    head = s3.head_object(Bucket="acme-raw", Key="big/blob.bin")
    assert head["ContentLength"] == len(body)
    (stored,) = list(rclone_s3.root.glob("*/raw/big/blob.bin"))
    assert hashlib.sha256(stored.read_bytes()).digest() == hashlib.sha256(body).digest()
    downloaded = io.BytesIO()
    s3.download_fileobj("acme-raw", "big/blob.bin", downloaded)
    assert downloaded.getvalue() == body


def test_multipart_steps_list_parts_and_uploads_and_abort(gateway_url: str, world: dict[str, Any]) -> None:
    s3 = s3_for(gateway_url, world["key"])
    created = s3.create_multipart_upload(Bucket="acme-raw", Key="parts/one.bin", ContentType="text/plain")
    assert created["Bucket"] == "acme-raw" and created["Key"] == "parts/one.bin"
    upload_id = created["UploadId"]
    first = s3.upload_part(
        Bucket="acme-raw", Key="parts/one.bin", UploadId=upload_id, PartNumber=1, Body=b"a" * 5 * MiB
    )
    second = s3.upload_part(Bucket="acme-raw", Key="parts/one.bin", UploadId=upload_id, PartNumber=2, Body=b"tail")
    other = s3.create_multipart_upload(Bucket="acme-raw", Key="parts/two.bin")["UploadId"]

    parts = s3.list_parts(Bucket="acme-raw", Key="parts/one.bin", UploadId=upload_id)
    assert parts["Bucket"] == "acme-raw" and parts["Key"] == "parts/one.bin"
    assert [(p["PartNumber"], p["Size"]) for p in parts["Parts"]] == [(1, 5 * MiB), (2, 4)]
    uploads = s3.list_multipart_uploads(Bucket="acme-raw", Prefix="parts/")
    assert uploads["Bucket"] == "acme-raw" and uploads.get("Prefix") == "parts/"
    assert sorted(u["Key"] for u in uploads["Uploads"]) == ["parts/one.bin", "parts/two.bin"]
    grouped = s3.list_multipart_uploads(Bucket="acme-raw", Delimiter="/")
    assert [p["Prefix"] for p in grouped.get("CommonPrefixes", [])] == ["parts/"]

    s3.abort_multipart_upload(Bucket="acme-raw", Key="parts/two.bin", UploadId=other)
    done = s3.complete_multipart_upload(
        Bucket="acme-raw",
        Key="parts/one.bin",
        UploadId=upload_id,
        MultipartUpload={
            "Parts": [{"PartNumber": 1, "ETag": first["ETag"]}, {"PartNumber": 2, "ETag": second["ETag"]}]
        },
    )
    assert done["Bucket"] == "acme-raw" and done["Key"] == "parts/one.bin"
    assert done["Location"].endswith("/acme-raw/parts/one.bin")
    got = s3.get_object(Bucket="acme-raw", Key="parts/one.bin")
    assert got["ContentLength"] == 5 * MiB + 4 and got["ContentType"] == "text/plain"
    remaining = s3.list_multipart_uploads(Bucket="acme-raw").get("Uploads", [])
    assert [u["Key"] for u in remaining] == []


def test_a_reader_may_not_upload_parts(gateway_url: str, world: dict[str, Any]) -> None:
    s3 = s3_for(gateway_url, world["key"])
    with pytest.raises(ClientError) as refused:
        s3.create_multipart_upload(Bucket="acme-ref", Key="big")
    assert code_of(refused.value) == "AccessDenied"
    with pytest.raises(ClientError) as parts:
        s3.upload_part(Bucket="acme-ref", Key="big", UploadId="anything", PartNumber=1, Body=b"x")
    assert code_of(parts.value) == "AccessDenied"


def test_copies_within_and_across_spaces(gateway_url: str, world: dict[str, Any], rclone_s3: RcloneS3) -> None:
    s3 = s3_for(gateway_url, world["key"])
    folder = space_folder(rclone_s3)
    ref = space_folder(rclone_s3, "ref")
    (ref / "data").mkdir(parents=True)
    (ref / "data" / "r.txt").write_bytes(b"reference")
    s3.put_object(Bucket="acme-raw", Key="src/a.txt", Body=b"alpha", ContentType="text/plain", Metadata={"k": "v"})
    copied = s3.copy_object(Bucket="acme-raw", Key="dst/a.txt", CopySource={"Bucket": "acme-raw", "Key": "src/a.txt"})
    assert copied["CopyObjectResult"]["ETag"]
    got = s3.get_object(Bucket="acme-raw", Key="dst/a.txt")
    assert got["Body"].read() == b"alpha" and got["Metadata"]["k"] == "v"
    replaced = s3.copy_object(
        Bucket="acme-raw",
        Key="dst/b.txt",
        CopySource="acme-raw/src/a.txt",
        MetadataDirective="REPLACE",
        Metadata={"new": "yes"},
        ContentType="text/csv",
    )
    assert replaced["CopyObjectResult"]["ETag"]
    head = s3.head_object(Bucket="acme-raw", Key="dst/b.txt")
    assert head["Metadata"]["new"] == "yes" and head["ContentType"] == "text/csv"

    # From ref, which the member may only read, into raw, which they write: allowed.
    s3.copy_object(Bucket="acme-raw", Key="from-ref.txt", CopySource={"Bucket": "acme-ref", "Key": "data/r.txt"})
    assert (folder / "from-ref.txt").read_bytes() == b"reference"
    # Into ref: the destination refuses.
    with pytest.raises(ClientError) as into_ref:
        s3.copy_object(Bucket="acme-ref", Key="x.txt", CopySource={"Bucket": "acme-raw", "Key": "src/a.txt"})
    assert code_of(into_ref.value) == "AccessDenied"
    assert not (ref / "x.txt").exists()


def test_a_copy_from_a_space_the_caller_may_not_read_writes_nothing(
    gateway_url: str, world: dict[str, Any], rclone_s3: RcloneS3, organization: Organization
) -> None:
    s3 = s3_for(gateway_url, world["key"])
    create_space(organization, name="secret", description="No grant for the member")
    folder = space_folder(rclone_s3)
    hidden = space_folder(rclone_s3, "secret")
    hidden.mkdir(parents=True)
    (hidden / "s.txt").write_bytes(b"classified")
    # boto3 quotes a copy source given as text: "%2e%2e" arrives as a key of those six characters.
    for source, code in (
        ({"Bucket": "acme-secret", "Key": "s.txt"}, "AccessDenied"),
        ("acme-raw/../secret/s.txt", "InvalidArgument"),
        ("acme-raw//secret/s.txt", "InvalidArgument"),
        ("acme-raw/%2e%2e/secret/s.txt", "NoSuchKey"),
        ({"Bucket": "globex-raw", "Key": "s.txt"}, "NoSuchBucket"),
    ):
        with pytest.raises(ClientError) as refused:
            s3.copy_object(Bucket="acme-raw", Key="stolen.txt", CopySource=source)
        assert code_of(refused.value) == code, source
    assert not (folder / "stolen.txt").exists()


def test_delete_objects_answers_each_key(gateway_url: str, world: dict[str, Any], rclone_s3: RcloneS3) -> None:
    make_trustee()
    member = Grant.objects.filter(space__name="raw").first()
    assert member is not None
    policy = create_policy(
        member.organization,
        name="keep-kept",
        document={
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "acme-raw/kept/*"}],
        },
    )
    attach(policy, user=member.user)
    s3 = s3_for(gateway_url, world["key"])
    for key in ("gone/1.txt", "gone/2.txt", "kept/1.txt"):
        s3.put_object(Bucket="acme-raw", Key=key, Body=key.encode())
    answer = s3.delete_objects(
        Bucket="acme-raw",
        Delete={"Objects": [{"Key": k} for k in ("gone/1.txt", "gone/2.txt", "kept/1.txt", "../ref/x")]},
    )
    assert sorted(d["Key"] for d in answer["Deleted"]) == ["gone/1.txt", "gone/2.txt"]
    errors = {e["Key"]: e["Code"] for e in answer["Errors"]}
    assert errors == {"kept/1.txt": "AccessDenied", "../ref/x": "InvalidArgument"}
    left = [item["Key"] for item in s3.list_objects_v2(Bucket="acme-raw")["Contents"]]
    assert left == ["kept/1.txt"]

    s3.put_object(Bucket="acme-raw", Key="gone/3.txt", Body=b"3")
    quiet = s3.delete_objects(
        Bucket="acme-raw", Delete={"Objects": [{"Key": "gone/3.txt"}, {"Key": "kept/1.txt"}], "Quiet": True}
    )
    assert quiet.get("Deleted", []) == []
    assert [e["Key"] for e in quiet["Errors"]] == ["kept/1.txt"]
    assert [item["Key"] for item in s3.list_objects_v2(Bucket="acme-raw")["Contents"]] == ["kept/1.txt"]


def test_a_delete_document_must_be_what_was_sent(gateway_url: str, world: dict[str, Any], rclone_s3: RcloneS3) -> None:
    make_trustee()
    s3 = s3_for(gateway_url, world["key"])
    s3.put_object(Bucket="acme-raw", Key="a.txt", Body=b"a")
    document = b"<Delete><Object><Key>a.txt</Key></Object></Delete>"
    md5 = content_md5(document)
    wrong = content_md5(b"other")
    hostile = b'<!DOCTYPE d [<!ENTITY e "a.txt">]><Delete><Object><Key>&e;</Key></Object></Delete>'
    for body, headers, code in (
        (document, {"Content-MD5": wrong}, b"BadDigest"),
        (document, {}, b"InvalidRequest"),
        (hostile, {"Content-MD5": content_md5(hostile)}, b"MalformedXML"),
        (b"<Delete>" + b"<Object><Key>k</Key></Object>" * 1001 + b"</Delete>", {}, b"MalformedXML"),
    ):
        if code == b"MalformedXML" and "Content-MD5" not in headers:
            headers = {"Content-MD5": content_md5(body)}
        status, answer = raw_request(gateway_url, world["key"], "POST", "/acme-raw", "delete=", body, headers)
        assert status == 400 and code in answer, answer
    assert s3.get_object(Bucket="acme-raw", Key="a.txt")["Body"].read() == b"a"
    status, answer = raw_request(
        gateway_url, world["key"], "POST", "/acme-raw", "delete=", document, {"Content-MD5": md5}
    )
    assert status == 200 and b"<Deleted>" in answer and b"<Key>a.txt</Key>" in answer, answer


def test_a_supplier_deletes_nothing_with_delete_objects(gateway_url: str, world: dict[str, Any]) -> None:
    s3 = s3_for(gateway_url, world["key"])
    s3.put_object(Bucket="acme-raw", Key="a.txt", Body=b"a")
    answer = s3.delete_objects(Bucket="acme-raw", Delete={"Objects": [{"Key": "a.txt"}]})
    assert answer.get("Deleted", []) == [] and [e["Code"] for e in answer["Errors"]] == ["AccessDenied"]
    assert s3.get_object(Bucket="acme-raw", Key="a.txt")["Body"].read() == b"a"


def test_listings_across_more_than_a_thousand_keys(
    gateway_url: str, world: dict[str, Any], rclone_s3: RcloneS3
) -> None:
    s3 = s3_for(gateway_url, world["key"])
    folder = space_folder(rclone_s3)
    keys = [f"many/d{i % 3}/k{i:04d}.txt" for i in range(1100)] + ["many/top.txt", "many/with space+plus.txt"]
    for key in keys:
        path = folder / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")

    v2 = s3.get_paginator("list_objects_v2")
    pages = list(v2.paginate(Bucket="acme-raw", Prefix="many/", PaginationConfig={"PageSize": 1000}))
    assert len(pages) == 2
    assert sorted(item["Key"] for page in pages for item in page["Contents"]) == sorted(keys)
    grouped = s3.list_objects_v2(Bucket="acme-raw", Prefix="many/", Delimiter="/")
    assert [p["Prefix"] for p in grouped["CommonPrefixes"]] == ["many/d0/", "many/d1/", "many/d2/"]
    assert [item["Key"] for item in grouped["Contents"]] == ["many/top.txt", "many/with space+plus.txt"]
    after = s3.list_objects_v2(Bucket="acme-raw", Prefix="many/d1/", StartAfter="many/d1/k1000.txt")
    assert [item["Key"] for item in after["Contents"]] == [f"many/d1/k{i:04d}.txt" for i in range(1003, 1100, 3)]

    v1 = s3.get_paginator("list_objects")
    pages = list(v1.paginate(Bucket="acme-raw", Prefix="many/", PaginationConfig={"PageSize": 1000}))
    assert len(pages) == 2
    assert sorted(item["Key"] for page in pages for item in page["Contents"]) == sorted(keys)
    assert pages[0]["Name"] == "acme-raw" and pages[0]["Prefix"] == "many/"
    first = s3.list_objects(Bucket="acme-raw", Prefix="many/d2/", MaxKeys=5, Delimiter="/")
    assert first["IsTruncated"] and first["NextMarker"] == "many/d2/k0014.txt"
    following = s3.list_objects(Bucket="acme-raw", Prefix="many/d2/", Marker=first["NextMarker"], MaxKeys=2)
    assert [item["Key"] for item in following["Contents"]] == ["many/d2/k0017.txt", "many/d2/k0020.txt"]
    assert following["Marker"] == "many/d2/k0014.txt"
    grouped_v1 = s3.list_objects(Bucket="acme-raw", Prefix="many/", Delimiter="/")
    assert [p["Prefix"] for p in grouped_v1["CommonPrefixes"]] == ["many/d0/", "many/d1/", "many/d2/"]


def test_encoding_type_url(gateway_url: str, world: dict[str, Any]) -> None:
    s3 = s3_for(gateway_url, world["key"])
    s3.put_object(Bucket="acme-raw", Key="enc/a b+c&d.txt", Body=b"x")
    # boto3 asks for encoding-type=url itself and decodes the answer: the keys come back as written.
    listed = s3.list_objects_v2(Bucket="acme-raw", Prefix="enc/")
    assert [item["Key"] for item in listed["Contents"]] == ["enc/a b+c&d.txt"]
    listed_v1 = s3.list_objects(Bucket="acme-raw", Prefix="enc/")
    assert [item["Key"] for item in listed_v1["Contents"]] == ["enc/a b+c&d.txt"]
    status, body = raw_request(
        gateway_url, world["key"], "GET", "/acme-raw", "encoding-type=url&list-type=2&prefix=enc%2F"
    )
    assert status == 200 and b"<Key>enc/a%20b%2Bc%26d.txt</Key>" in body and b"<EncodingType>url" in body
    status, body = raw_request(gateway_url, world["key"], "GET", "/acme-raw", "prefix=enc%2F")
    assert status == 200 and b"<Key>enc/a b+c&amp;d.txt</Key>" in body


def test_bucket_questions(gateway_url: str, world: dict[str, Any], member: Any, organization: Organization) -> None:
    s3 = s3_for(gateway_url, world["key"])
    assert {"acme-raw", "acme-ref"} <= {b["Name"] for b in s3.list_buckets()["Buckets"]}
    hide = create_policy(
        organization,
        name="hide-ref",
        document={
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Deny", "Action": "s3:ListAllMyBuckets", "Resource": "acme-ref"}],
        },
    )
    attach(hide, user=member)
    names = {b["Name"] for b in s3.list_buckets()["Buckets"]}
    assert "acme-raw" in names and "acme-ref" not in names
    assert s3.head_bucket(Bucket="acme-raw")["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert s3.get_bucket_location(Bucket="acme-raw").get("LocationConstraint") is None
    with pytest.raises(ClientError) as missing:
        s3.head_bucket(Bucket="globex-raw")
    assert missing.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    for call in (
        lambda: s3.get_bucket_acl(Bucket="acme-raw"),
        lambda: s3.put_bucket_versioning(Bucket="acme-raw", VersioningConfiguration={"Status": "Enabled"}),
        lambda: s3.get_bucket_policy(Bucket="acme-raw"),
        lambda: s3.get_bucket_lifecycle_configuration(Bucket="acme-raw"),
        lambda: s3.put_object_tagging(Bucket="acme-raw", Key="a", Tagging={"TagSet": []}),
        lambda: s3.put_object(Bucket="acme-raw", Key="a", Body=b"a", ACL="public-read"),
        lambda: s3.create_bucket(Bucket="acme-new"),
        lambda: s3.delete_bucket(Bucket="acme-raw"),
    ):
        with pytest.raises(ClientError) as unsupported:
            call()
        assert code_of(unsupported.value) == "NotImplemented"


ESCAPES = [
    "/acme-raw/../acme-ref/x.txt",
    "/acme-raw/%2e%2e/ref/x.txt",
    "/acme-raw/%2E%2E/ref/x.txt",
    "/acme-raw/a/../../ref/x.txt",
    "/acme-raw/./x.txt",
    "/acme-raw/a/./x.txt",
    "/acme-raw//x.txt",
    "/acme-raw/a//x.txt",
    "/acme-raw/a%5C..%5Cx.txt",
    "/acme-raw/..",
    "/acme-raw/%2e%2e",
    "/acme-raw/a/%2e%2e/%2e%2e/ref/x.txt",
]


def test_keys_that_would_leave_the_space_are_refused(
    gateway_url: str, world: dict[str, Any], rclone_s3: RcloneS3
) -> None:
    make_trustee()
    s3_for(gateway_url, world["key"]).put_object(Bucket="acme-raw", Key="inside.txt", Body=b"in")
    before = {str(p): p.read_bytes() for p in rclone_s3.root.rglob("*") if p.is_file()}
    for path in ESCAPES:
        for method in ("GET", "PUT", "DELETE", "HEAD"):
            status, body = raw_request(gateway_url, world["key"], method, path)
            assert status == 400, (method, path, body)
            assert method == "HEAD" or b"InvalidArgument" in body
    assert {str(p): p.read_bytes() for p in rclone_s3.root.rglob("*") if p.is_file()} == before


def test_listing_prefixes_that_would_leave_the_space_are_refused(gateway_url: str, world: dict[str, Any]) -> None:
    s3 = s3_for(gateway_url, world["key"])
    for prefix in ("../", "..", "a/../", "/", "a//"):
        with pytest.raises(ClientError) as refused:
            s3.list_objects_v2(Bucket="acme-raw", Prefix=prefix)
        assert code_of(refused.value) == "InvalidArgument"
    with pytest.raises(ClientError) as marker:
        s3.list_objects(Bucket="acme-raw", Marker="../zzz")
    assert code_of(marker.value) == "InvalidArgument"


def test_upload_part_copy_on_moto(
    gateway_url: str, organization: Organization, member: Any, moto_server: MotoServer
) -> None:
    from accessgrants.accesskeys import issue_key

    bucket = f"spaceport-{secrets.token_hex(4)}"
    moto_server.client("s3").create_bucket(Bucket=bucket)
    admin = moto_server.admin
    make_active(
        connect(organization, moto_server.endpoint_url, admin.access_key_id, admin.secret_access_key, bucket=bucket)
    )
    raw = create_space(organization, name="raw", description="Raw")
    Grant.objects.create(user=member, scope=Scope.ORGANIZATION, role=Role.ACCESS, organization=organization)
    Grant.objects.create(user=member, scope=Scope.SPACE, role=Role.TRUSTEE, organization=organization, space=raw)
    issued = issue_key(member, organization)
    s3 = s3_for(gateway_url, issued)
    source = secrets.token_bytes(6 * MiB)
    s3.put_object(Bucket="acme-raw", Key="src.bin", Body=source)
    upload = s3.create_multipart_upload(Bucket="acme-raw", Key="joined.bin")["UploadId"]
    first = s3.upload_part_copy(
        Bucket="acme-raw", Key="joined.bin", UploadId=upload, PartNumber=1, CopySource="acme-raw/src.bin"
    )
    second = s3.upload_part_copy(
        Bucket="acme-raw",
        Key="joined.bin",
        UploadId=upload,
        PartNumber=2,
        CopySource={"Bucket": "acme-raw", "Key": "src.bin"},
        CopySourceRange="bytes=0-99",
    )
    s3.complete_multipart_upload(
        Bucket="acme-raw",
        Key="joined.bin",
        UploadId=upload,
        MultipartUpload={
            "Parts": [
                {"PartNumber": 1, "ETag": first["CopyPartResult"]["ETag"]},
                {"PartNumber": 2, "ETag": second["CopyPartResult"]["ETag"]},
            ]
        },
    )
    stored = moto_server.client("s3").get_object(Bucket=bucket, Key="raw/joined.bin")["Body"].read()
    assert stored == source + source[:100]
    copied = s3.copy_object(Bucket="acme-raw", Key="copy.bin", CopySource="acme-raw/src.bin")
    assert copied["CopyObjectResult"]["ETag"]
    assert s3.get_object(Bucket="acme-raw", Key="copy.bin")["Body"].read() == source
    answer = s3.delete_objects(Bucket="acme-raw", Delete={"Objects": [{"Key": "copy.bin"}, {"Key": "src.bin"}]})
    assert sorted(d["Key"] for d in answer["Deleted"]) == ["copy.bin", "src.bin"]
    assert [o["Key"] for o in s3.list_objects(Bucket="acme-raw")["Contents"]] == ["joined.bin"]

    # boto3's own multipart upload, with its default checksums, to moto as well.
    body = secrets.token_bytes(12 * MiB)
    config = TransferConfig(multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB)
    s3.upload_fileobj(io.BytesIO(body), "acme-raw", "dir/multi.bin", Config=config)
    stored = moto_server.client("s3").get_object(Bucket=bucket, Key="raw/dir/multi.bin")
    assert stored["Body"].read() == body and stored["ETag"].strip('"').endswith("-3")
    listed = s3.list_objects(Bucket="acme-raw", Prefix="dir/", Delimiter="/", EncodingType="url")
    assert [o["Key"] for o in listed["Contents"]] == ["dir/multi.bin"] and listed["Name"] == "acme-raw"
    # moto names its account as the owner; the client sees its own key instead.
    assert listed["Contents"][0]["Owner"]["ID"] == issued.key.access_key_id
