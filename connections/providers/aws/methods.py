"""Amazon S3's connection methods and what each asks for."""

from __future__ import annotations

from connections import inputs as check
from connections.providers.aws.inputs import aws_region, role_arn
from connections.providers.rotating import ROTATE_KEY
from connections.providers.s3.fields import ACCESS_KEY_ID, BUCKET, SECRET_ACCESS_KEY
from connections.providers.spec import PREFIX, FieldSpec, MethodSpec

PROVIDER = "aws"
ACCESS_KEYS = "aws_access_keys"
WEB_IDENTITY = "aws_web_identity"
CROSS_ACCOUNT_ROLE = "aws_cross_account_role"

REGION = FieldSpec("region", "Region", aws_region, "The bucket's region, such as eu-central-1.")
AWS_ENDPOINT = FieldSpec(
    "endpoint_url",
    "Endpoint URL",
    check.optional_url,
    "Optional: a VPC endpoint or another S3/STS endpoint. Leave empty for AWS itself.",
    required=False,
    default="",
    destination=True,
)
ROTATE = FieldSpec(
    ROTATE_KEY,
    "Rotate the key automatically",
    check.boolean,
    "Spaceport creates a new access key for this IAM user every few weeks, checks it, stores it and deletes the "
    "old one. The user's policy must allow it to manage its own keys (see the policy on the setup page).",
    required=False,
    default=False,
    kind="bool",
)
ROLE_ARN = FieldSpec("role_arn", "Role ARN", role_arn, "The ARN of the role you created for Spaceport.")

METHODS = (
    MethodSpec(
        ACCESS_KEYS,
        PROVIDER,
        "Long-term access keys",
        "Create an IAM user with access to the bucket and enter its access key.",
        "Long-term keys never expire on their own: anyone who obtains them has the user's access "
        "until you delete the key. Prefer a cross-account role; if you use keys, scope the user's "
        "policy to this bucket and rotate the key regularly.",
        (ACCESS_KEY_ID, SECRET_ACCESS_KEY, BUCKET, REGION, PREFIX, AWS_ENDPOINT, ROTATE),
    ),
    MethodSpec(
        WEB_IDENTITY,
        PROVIDER,
        "OIDC web identity",
        "Add Spaceport as an OIDC provider in IAM and create a role that trusts this connection's subject.",
        "No long-lived secret exists at all: Spaceport presents a short-lived token it signs for this "
        "connection alone and receives temporary credentials. The trust policy shown here admits only this "
        "connection's subject, so no other Spaceport customer can use your role.",
        (ROLE_ARN, BUCKET, REGION, PREFIX, AWS_ENDPOINT),
        uses_spaceport_subject=True,
    ),
    MethodSpec(
        CROSS_ACCOUNT_ROLE,
        PROVIDER,
        "Cross-account role",
        "Create a role that trusts Spaceport's AWS account on the condition of the ExternalId shown here.",
        "The standard for SaaS access: no secret leaves your account, access is revocable at any time, and "
        "the ExternalId condition stops anyone else from tricking Spaceport into using your role "
        "(the confused deputy).",
        (ROLE_ARN, BUCKET, REGION, PREFIX, AWS_ENDPOINT),
        uses_external_id=True,
        recommended=True,
    ),
)
