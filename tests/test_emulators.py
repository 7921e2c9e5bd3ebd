"""Each storage emulator does a real round trip with the client library the product uses.

These tests pin down what the emulators enforce, because later tests (connection validation,
credential vending, commits) rely on it: moto checks signatures and IAM policies of assumed
roles, Azurite checks SAS permissions, rclone checks SigV4. moto does not check trust-policy
conditions such as the ExternalId, and gcp-storage-emulator checks no credentials at all; tests
of those checks must examine the request Spaceport builds instead.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from azure.core.exceptions import HttpResponseError
from azure.storage.blob import BlobServiceClient, ContainerClient, ContainerSasPermissions, generate_container_sas
from botocore.exceptions import ClientError

from tests.emulators import AwsKey, Azurite, GcsEmulator, MotoServer, RcloneS3


def _error_code(excinfo: pytest.ExceptionInfo[ClientError]) -> str:
    return str(excinfo.value.response["Error"]["Code"])


def test_moto_checks_signatures(moto_server: MotoServer) -> None:
    s3 = moto_server.client("s3")
    s3.create_bucket(Bucket="moto-signed")
    s3.put_object(Bucket="moto-signed", Key="hello.txt", Body=b"hello")

    forged = AwsKey(moto_server.admin.access_key_id, "not-the-secret")
    with pytest.raises(ClientError) as excinfo:
        moto_server.client("s3", forged).get_object(Bucket="moto-signed", Key="hello.txt")
    assert _error_code(excinfo) == "SignatureDoesNotMatch"

    with pytest.raises(ClientError) as excinfo:
        moto_server.client("iam", AwsKey("AKIAUNKNOWN000000000", "whatever")).list_users()
    assert _error_code(excinfo) == "InvalidClientTokenId"


def test_moto_assume_role_gives_working_credentials_limited_by_the_role_policy(moto_server: MotoServer) -> None:
    admin_s3 = moto_server.client("s3")
    admin_s3.create_bucket(Bucket="moto-role-data")
    admin_s3.put_object(Bucket="moto-role-data", Key="a.csv", Body=b"x,y\n1,2\n")

    may_assume = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}],
    }
    _, caller_key = moto_server.create_user("role-caller", may_assume)
    iam = moto_server.client("iam")
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{moto_server.account_id}:user/role-caller"},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"sts:ExternalId": "spaceport-external-id"}},
            }
        ],
    }
    role_arn = iam.create_role(RoleName="spaceport-reader", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    iam.put_role_policy(
        RoleName="spaceport-reader",
        PolicyName="read-role-data",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": ["s3:GetObject", "s3:ListBucket"],
                        "Resource": ["arn:aws:s3:::moto-role-data", "arn:aws:s3:::moto-role-data/*"],
                    }
                ],
            }
        ),
    )

    issued = moto_server.client("sts", caller_key).assume_role(
        RoleArn=role_arn, RoleSessionName="spaceport-test", ExternalId="spaceport-external-id"
    )["Credentials"]
    temporary = AwsKey(issued["AccessKeyId"], issued["SecretAccessKey"], issued["SessionToken"])

    identity = moto_server.client("sts", temporary).get_caller_identity()
    assert identity["Arn"] == f"arn:aws:sts::{moto_server.account_id}:assumed-role/spaceport-reader/spaceport-test"
    role_s3 = moto_server.client("s3", temporary)
    assert role_s3.get_object(Bucket="moto-role-data", Key="a.csv")["Body"].read() == b"x,y\n1,2\n"
    with pytest.raises(ClientError) as excinfo:
        role_s3.put_object(Bucket="moto-role-data", Key="b.csv", Body=b"no")
    assert _error_code(excinfo) == "AccessDenied"


def test_azurite_round_trip_and_read_only_sas_cannot_write(azurite: Azurite) -> None:
    service = BlobServiceClient.from_connection_string(azurite.connection_string)
    container = service.create_container("azurite-round-trip")
    container.upload_blob("greeting.txt", b"hello azure")
    assert container.download_blob("greeting.txt").readall() == b"hello azure"

    read_sas = generate_container_sas(
        azurite.account_name,
        "azurite-round-trip",
        account_key=azurite.account_key,
        permission=ContainerSasPermissions(read=True, list=True),
        expiry=datetime.now(UTC) + timedelta(minutes=10),
    )
    reader = ContainerClient(azurite.blob_endpoint, "azurite-round-trip", credential=read_sas)
    assert reader.download_blob("greeting.txt").readall() == b"hello azure"
    assert [blob.name for blob in reader.list_blobs()] == ["greeting.txt"]
    with pytest.raises(HttpResponseError) as excinfo:
        reader.upload_blob("intruder.txt", b"should not land")
    assert excinfo.value.status_code == 403
    assert [blob.name for blob in container.list_blobs()] == ["greeting.txt"]


def test_gcs_emulator_round_trip(gcs_emulator: GcsEmulator) -> None:
    client = gcs_emulator.client()
    bucket = client.create_bucket("gcs-round-trip")
    bucket.blob("folder/greeting.txt").upload_from_string(b"hello gcs")
    assert bucket.blob("folder/greeting.txt").download_as_bytes() == b"hello gcs"
    assert [blob.name for blob in client.list_blobs("gcs-round-trip", prefix="folder/")] == ["folder/greeting.txt"]


def test_rclone_s3_round_trip_and_wrong_secret_is_refused(rclone_s3: RcloneS3) -> None:
    s3 = rclone_s3.client()
    s3.create_bucket(Bucket="rclone-round-trip")
    s3.put_object(Bucket="rclone-round-trip", Key="dir/greeting.txt", Body=b"hello rclone")
    assert s3.get_object(Bucket="rclone-round-trip", Key="dir/greeting.txt")["Body"].read() == b"hello rclone"
    assert (rclone_s3.root / "rclone-round-trip" / "dir" / "greeting.txt").read_bytes() == b"hello rclone"

    forged = AwsKey(rclone_s3.key.access_key_id, "not-the-secret")
    with pytest.raises(ClientError) as excinfo:
        rclone_s3.client(forged).get_object(Bucket="rclone-round-trip", Key="dir/greeting.txt")
    assert _error_code(excinfo) == "SignatureDoesNotMatch"
