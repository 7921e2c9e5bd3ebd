"""How a space appears as an S3 bucket, and which bucket names a policy of an organization may use.

The S3 gateway shows every space as one bucket named ``<organization>-<space>``, e.g. ``acme-raw``;
policies name spaces by those bucket names. Organization names are 3-24 lowercase letters and
digits (no hyphen) and space names 3-63 lowercase letters, digits and single hyphens, so the first
hyphen always ends the organization's part: ``acme-`` starts the names of acme's buckets and of
no other organization's.

When the two together exceed S3's 63 characters, the name keeps the organization, as much of the
space name as fits, then ``--`` and the first 10 hex digits of SHA-256 over ``<organization>/<space>``:
``acme-a-very-long-space-name-that-goes-on-and-o--3f9c0d1e2a``. No plain name contains ``--`` (neither
part may), so a shortened name never equals a plain one.

Every name is valid for S3 clients: 3-63 characters of lowercase letters, digits and hyphens,
starting and ending with a letter or digit, no dots (virtual-hosted requests over TLS keep working),
never an IP address, never the ``xn--`` prefix or the ``--ol-s3``/``--x-s3``/``--table-s3`` suffixes
S3 gives a meaning. AWS also reserves ``sthree-``, ``amzn-s3-demo-`` and ``-s3alias`` for names it
creates itself; those restrict creating buckets on AWS, which the gateway's buckets never are.
"""

from __future__ import annotations

import hashlib
import re

BUCKET_MAX_LENGTH = 63
DIGEST_LENGTH = 10
SEPARATOR = "-"
SHORTENED_MARK = "--"
ARN_PREFIX = "arn:aws:s3:::"

BUCKET_PATTERN = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
IP_ADDRESS = re.compile(r"\d+\.\d+\.\d+\.\d+")
SPECIAL_PREFIXES = ("xn--",)
SPECIAL_SUFFIXES = ("--ol-s3", "--x-s3", "--table-s3")


def bucket_name(organization: str, space: str) -> str:
    """The bucket the gateway shows for ``space`` of ``organization`` (both valid names)."""
    plain = f"{organization}{SEPARATOR}{space}"
    if len(plain) <= BUCKET_MAX_LENGTH:
        return plain
    digest = hashlib.sha256(f"{organization}/{space}".encode()).hexdigest()[:DIGEST_LENGTH]
    room = BUCKET_MAX_LENGTH - len(organization) - len(SEPARATOR) - len(SHORTENED_MARK) - DIGEST_LENGTH
    head = space[:room].rstrip("-")
    return f"{organization}{SEPARATOR}{head}{SHORTENED_MARK}{digest}"


def bucket_prefix(organization: str) -> str:
    """What every bucket name of ``organization``, and of no other, starts with."""
    return f"{organization}{SEPARATOR}"


def organization_of(bucket: str) -> str:
    """The organization a bucket name belongs to (the part before the first hyphen)."""
    return bucket.split(SEPARATOR, 1)[0]


def is_valid_bucket_name(name: str) -> bool:
    """S3's general naming rules, as :func:`bucket_name` promises to keep them."""
    return (
        BUCKET_PATTERN.fullmatch(name) is not None
        and ".." not in name
        and IP_ADDRESS.fullmatch(name) is None
        and not name.startswith(SPECIAL_PREFIXES)
        and not name.endswith(SPECIAL_SUFFIXES)
    )


def resource_path(resource: str) -> str:
    """``bucket`` or ``bucket/key`` from an S3 ARN or the short form; the engine matches these."""
    return resource[len(ARN_PREFIX) :] if resource.startswith(ARN_PREFIX) else resource
