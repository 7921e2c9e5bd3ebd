"""The S3-protocol stores (AWS, IBM COS, S3-compatible): checks for what a customer enters."""

from __future__ import annotations

import re
from typing import Any

from connections.inputs import is_ip_address, text

S3_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


def s3_bucket(value: Any) -> str:
    """S3 bucket naming rules, which IBM COS and most S3-compatible stores share."""
    value = text(value, max_length=63)
    if not S3_BUCKET.match(value) or ".." in value or ".-" in value or "-." in value:
        raise ValueError(
            "Bucket names have 3 to 63 characters: lowercase letters, digits, dots and hyphens, "
            "starting and ending with a letter or digit."
        )
    if is_ip_address(value):
        raise ValueError("A bucket name must not look like an IP address.")
    if value.startswith(("xn--", "sthree-")) or value.endswith(("-s3alias", "--ol-s3")):
        raise ValueError("This bucket name uses a prefix or suffix that S3 reserves.")
    return value


def addressing_style(value: Any) -> str:
    value = (value or "path") if isinstance(value, str) else value
    if value not in ("path", "virtual"):
        raise ValueError("Choose path or virtual.")
    return str(value)


def access_key_id(value: Any) -> str:
    value = text(value, max_length=128)
    if not re.match(r"^[A-Za-z0-9+/=_-]{3,128}$", value):
        raise ValueError("An access key id has only letters, digits and + / = _ -.")
    return value
