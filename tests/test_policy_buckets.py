"""How spaces appear as buckets: valid for S3, one name per space, and each organization's names apart."""

from __future__ import annotations

import itertools
import re

import pytest

from accessgrants.policies.buckets import (
    bucket_name,
    bucket_prefix,
    is_valid_bucket_name,
    organization_of,
    resource_path,
)
from portal.tenancy.models import ORGANIZATION_NAME_PATTERN, SPACE_NAME_PATTERN

ORGANIZATIONS = ["abc", "acme", "acme2", "sthree", "xn0", "a" * 24, "z9" * 12, "123"]
SPACES = [
    "raw",
    "loadingzone",
    "s3-demo-x",
    "data-s3alias",
    "a-b-c",
    "x" * 38,
    "x" * 39,
    "y" * 63,
    "a" * 30 + "-" + "b" * 32,
    "-".join(["ab"] * 21),
    "a" * 33 + "-" + "c" * 29,
    "a" * 33 + "-" + "d" * 29,
]


def test_samples_are_valid_names() -> None:
    assert all(re.match(ORGANIZATION_NAME_PATTERN, name) for name in ORGANIZATIONS)
    assert all(re.match(SPACE_NAME_PATTERN, name) for name in SPACES)


@pytest.mark.parametrize(("organization", "space"), itertools.product(ORGANIZATIONS, SPACES))
def test_every_bucket_name_is_valid_and_belongs_to_its_organization(organization: str, space: str) -> None:
    name = bucket_name(organization, space)
    assert is_valid_bucket_name(name), name
    assert 3 <= len(name) <= 63
    assert name.startswith(bucket_prefix(organization))
    assert organization_of(name) == organization
    assert bucket_name(organization, space) == name


def test_short_names_are_plain_and_long_ones_shortened_with_a_digest() -> None:
    assert bucket_name("acme", "raw") == "acme-raw"
    assert bucket_name("a" * 24, "x" * 38) == "a" * 24 + "-" + "x" * 38
    long = bucket_name("a" * 24, "x" * 39)
    assert len(long) == 63
    assert re.fullmatch("a{24}-x{26}--[0-9a-f]{10}", long)


def test_names_are_one_to_one() -> None:
    names = [bucket_name(o, s) for o, s in itertools.product(ORGANIZATIONS, SPACES)]
    assert len(set(names)) == len(names)


def test_no_organization_prefix_covers_another_organization() -> None:
    for mine, other in itertools.permutations(ORGANIZATIONS, 2):
        assert not any(bucket_name(other, space).startswith(bucket_prefix(mine)) for space in SPACES)


def test_shortening_never_leaves_a_double_hyphen_before_the_mark() -> None:
    """Cutting a space name right after a hyphen would give ``---``; the cut drops that hyphen."""
    name = bucket_name("a" * 24, "a" * 25 + "-" + "b" * 37)
    assert "---" not in name
    assert name.count("--") == 1


@pytest.mark.parametrize(
    "name", ["ab", "a" * 64, "Acme-raw", "acme_raw", "-acme", "acme-", "a..b", "192.168.1.1", "xn--abc", "abc--x-s3"]
)
def test_invalid_bucket_names_are_recognised(name: str) -> None:
    assert not is_valid_bucket_name(name)


def test_resource_path_takes_arns_and_short_forms() -> None:
    assert resource_path("arn:aws:s3:::acme-raw/a/b") == "acme-raw/a/b"
    assert resource_path("acme-raw/a/b") == "acme-raw/a/b"
    assert resource_path("arn:aws:s3:::acme-raw") == "acme-raw"
