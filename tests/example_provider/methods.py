"""The example cloud's one method: a bucket and a token."""

from __future__ import annotations

from typing import Any

from connections.providers.spec import PREFIX, FieldSpec, MethodSpec

PROVIDER = "example"
TOKEN = "example_token"


def bucket_name(value: Any) -> str:
    """The example cloud's own input check: lowercase letters and digits."""
    text = str(value).strip()
    if not text.isalnum() or text.lower() != text:
        raise ValueError("Use lowercase letters and digits.")
    return text


def token(value: Any) -> str:
    text = str(value).strip()
    if not text.startswith("ex-"):
        raise ValueError("An example token starts with 'ex-'.")
    return text


BUCKET = FieldSpec("bucket", "Bucket", bucket_name, "The bucket in the example cloud.")
SECRET = FieldSpec("token", "Token", token, "The token the example cloud gave you.", secret=True, kind="password")

METHODS = (
    MethodSpec(
        TOKEN,
        PROVIDER,
        "Example token",
        "Paste a token from the example cloud.",
        "The token opens the whole bucket; it exists only in tests.",
        (BUCKET, PREFIX, SECRET),
        recommended=True,
    ),
)
