"""IBM Cloud Object Storage's connection methods and what each asks for."""

from __future__ import annotations

from connections import inputs as check
from connections.providers.ibm.inputs import ibm_iam_token_choices, ibm_iam_token_url
from connections.providers.s3.fields import ACCESS_KEY_ID, BUCKET, SECRET_ACCESS_KEY
from connections.providers.spec import PREFIX, FieldSpec, MethodSpec, optional

PROVIDER = "ibm"
API_KEY = "ibm_api_key"
HMAC = "ibm_hmac"

IBM_ENDPOINT = FieldSpec(
    "endpoint",
    "Endpoint",
    check.url,
    "Such as https://s3.eu-de.cloud-object-storage.appdomain.cloud",
    destination=True,
)

METHODS = (
    MethodSpec(
        API_KEY,
        PROVIDER,
        "API key",
        "Create a service ID with Writer access to the bucket and an API key for it.",
        "Spaceport trades the API key for short-lived IAM tokens. The key itself is long-lived: delete it in "
        "IBM Cloud to revoke access.",
        (
            IBM_ENDPOINT,
            BUCKET,
            PREFIX,
            FieldSpec("api_key", "API key", check.secret_text, secret=True, kind="password"),
            FieldSpec(
                "service_instance_id",
                "Service instance id",
                optional(check.text),
                "Optional: the COS instance's CRN, needed for listing buckets.",
                required=False,
                default="",
            ),
            FieldSpec(
                "iam_url",
                "IAM token URL",
                ibm_iam_token_url,
                "Where the API key is exchanged for tokens. Only the URLs the operator allows are offered.",
                required=False,
                kind="choice",
                destination=True,
                choices_from=ibm_iam_token_choices,
            ),
        ),
    ),
    MethodSpec(
        HMAC,
        PROVIDER,
        "HMAC keys",
        "Create service credentials with HMAC enabled and enter the access key pair.",
        "HMAC keys are long-lived and work with any S3 tool; scope the service credential to Writer on this "
        "bucket and rotate it regularly.",
        (
            IBM_ENDPOINT,
            BUCKET,
            PREFIX,
            ACCESS_KEY_ID,
            SECRET_ACCESS_KEY,
        ),
    ),
)
