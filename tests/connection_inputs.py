"""Valid inputs for every connection method, shared by the connection tests."""

from __future__ import annotations

import json
import uuid
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa


def rsa_private_key_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def service_account_key(
    token_uri: str = "https://oauth2.googleapis.com/token",
    *,
    public_keys: dict[str, Any] | None = None,
    project: str = "acme-data",
    email: str = "",
) -> dict[str, Any]:
    """A key file like the one IAM downloads, with a fresh RSA key.

    With ``public_keys`` (a token stand-in's), the key gets a fresh id and its public half is
    registered there, so the stand-in can check the assertions signed with it.
    """
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_id = "0123456789abcdef"
    if public_keys is not None:
        key_id = uuid.uuid4().hex
        public_keys[key_id] = private.public_key()
    return {
        "type": "service_account",
        "project_id": project,
        "private_key_id": key_id,
        "private_key": private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode(),
        "client_email": email or f"spaceport@{project}.iam.gserviceaccount.com",
        "client_id": "1234567890",
        "token_uri": token_uri,
    }


def external_account() -> dict[str, Any]:
    return {
        "type": "external_account",
        "audience": "//iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p/providers/spaceport",
        "subject_token_type": "urn:ietf:params:oauth:token-type:jwt",
        "token_url": "https://sts.googleapis.com/v1/token",
        "credential_source": {"file": "/var/run/secrets/token"},
    }


AZURE_CONNECTION_STRING = (
    "DefaultEndpointsProtocol=https;AccountName=acmedata;"
    "AccountKey=c2VjcmV0LWtleS1vbmx5LWluLXRoZS10ZXN0cw==;EndpointSuffix=core.windows.net"
)

VALID_INPUTS: dict[str, dict[str, Any]] = {
    "azure_connection_string": {"connection_string": AZURE_CONNECTION_STRING},
    "azure_service_principal": {
        "tenant_id": "72f988bf-86f1-41af-91ab-2d7cd011db47",
        "client_id": "11111111-2222-3333-4444-555555555555",
        "account_url": "https://acmedata.blob.core.windows.net",
        "client_secret": "client-secret-value-123",
    },
    "aws_access_keys": {
        "access_key_id": "AKIAIOSFODNN7EXAMPLE",
        "secret_access_key": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "bucket": "acme-data",
        "region": "eu-central-1",
    },
    "aws_web_identity": {
        "role_arn": "arn:aws:iam::123456789012:role/Spaceport",
        "bucket": "acme-data",
        "region": "eu-central-1",
    },
    "aws_cross_account_role": {
        "role_arn": "arn:aws:iam::123456789012:role/Spaceport",
        "bucket": "acme-data",
        "region": "us-east-1",
        "prefix": "spaceport",
    },
    "gcp_service_account_key": {"key_json": json.dumps(service_account_key()), "bucket": "acme-data"},
    "gcp_workload_identity": {"credential_config": json.dumps(external_account()), "bucket": "acme-data"},
    "gcp_direct_iam": {"bucket": "acme-data"},
    "ibm_api_key": {
        "endpoint": "https://s3.eu-de.cloud-object-storage.appdomain.cloud",
        "bucket": "acme-data",
        "api_key": "ibm-api-key-value",
    },
    "ibm_hmac": {
        "endpoint": "https://s3.eu-de.cloud-object-storage.appdomain.cloud",
        "bucket": "acme-data",
        "access_key_id": "0123456789abcdef0123",
        "secret_access_key": "ibm-hmac-secret-value",
    },
    "s3_static_keys": {
        "endpoint": "https://s3.vast.example.com",
        "bucket": "acme-data",
        "access_key_id": "VASTKEY",
        "secret_access_key": "vast-secret-value",
        "verify_tls": "false",
    },
}
