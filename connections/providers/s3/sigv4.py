"""The steps of AWS Signature Version 4 that signing and checking share.

The gateway checks its clients' signatures with these, and a commit's direct CopyObject signs
with them (``connections.providers.s3.direct``), so one implementation is tested from both sides:
against every client the gateway's tests run, and byte for byte against botocore's own signer.
The signing key is derived once a day per key and kept; deriving it takes four HMACs, about as
much CPU as the rest of a signature.
"""

from __future__ import annotations

import hashlib
import hmac

from portal.core.cache import ProcessMemory

ALGORITHM = "AWS4-HMAC-SHA256"
SERVICE = "s3"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()

# By (secret, date, region, service): the signing key, which changes once a day per key.
_signing_keys: ProcessMemory[tuple[str, str, str, str], bytes] = ProcessMemory(
    "SigV4 signing keys",
    entries=4096,
    secrets="a signing key signs for its access key for a whole day; deriving it takes four HMACs per "
    "request. It is keyed by the secret itself, so a rotated secret never finds the old key, and a "
    "key that may no longer sign is refused before its secret is looked up",
)


def signing_key(secret: str, date: str, region_name: str, service: str = SERVICE) -> bytes:
    at = (secret, date, region_name, service)
    found = _signing_keys.get(at)
    if found is None:
        found = hmac.digest(f"AWS4{secret}".encode(), date.encode(), "sha256")
        for part in (region_name, service, "aws4_request"):
            found = hmac.digest(found, part.encode(), "sha256")
        _signing_keys.put(at, found)
    return found


def signature(key: bytes, string_to_sign: str) -> str:
    return hmac.new(key, string_to_sign.encode(), "sha256").hexdigest()


def string_to_sign(amz_date: str, scope: str, canonical_request: str) -> str:
    return f"{ALGORITHM}\n{amz_date}\n{scope}\n{hashlib.sha256(canonical_request.encode()).hexdigest()}"
