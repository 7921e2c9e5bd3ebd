"""S3-compatible stores' connection method and what it asks for."""

from __future__ import annotations

from connections import inputs as check
from connections.providers.s3.fields import ACCESS_KEY_ID, BUCKET, SECRET_ACCESS_KEY
from connections.providers.s3.inputs import addressing_style
from connections.providers.spec import PREFIX, FieldSpec, MethodSpec

PROVIDER = "s3compat"
STATIC_KEYS = "s3_static_keys"


METHODS = (
    MethodSpec(
        STATIC_KEYS,
        PROVIDER,
        "Static access keys",
        "Create an S3 user for Spaceport on your store (VAST, MinIO, Ceph, ...) with access to the bucket.",
        "Static keys are long-lived; give the user an identity policy limited to this bucket and rotate "
        "the key regularly. Turn off TLS verification only for a store inside your own network.",
        (
            FieldSpec("endpoint", "Endpoint", check.url, "Such as https://s3.vast.example.com", destination=True),
            BUCKET,
            PREFIX,
            ACCESS_KEY_ID,
            SECRET_ACCESS_KEY,
            FieldSpec(
                "addressing_style",
                "Addressing style",
                addressing_style,
                "Path style (endpoint/bucket/key) works with almost every store.",
                required=False,
                default="path",
                kind="choice",
                choices=(("path", "Path style"), ("virtual", "Virtual-hosted style")),
            ),
            FieldSpec(
                "verify_tls",
                "Verify TLS certificates",
                check.boolean,
                required=False,
                default=True,
                kind="bool",
            ),
            FieldSpec(
                "region",
                "Region",
                check.text,
                "Most stores accept any value; us-east-1 is the usual default.",
                required=False,
                default="us-east-1",
            ),
        ),
    ),
)
