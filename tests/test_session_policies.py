"""The S3 session policies, case by case, through the evaluator in ``tests/policy_eval.py``.

No emulator enforces session policies (moto ignores them), so what a vended credential may and
may not do is decided here, on the exact documents Spaceport sends to STS.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from connections.providers.aws import session_policy as policies
from connections.providers.base import Location
from connections.providers.vending import Access
from tests import policy_eval
from tests.policy_eval import allowed, may_list, object_arn

BUCKET = "acme-data"
RAW = Location(BUCKET, "spaceport/raw/")

READ_ACTIONS = ["s3:GetObject"]
WRITE_ACTIONS = ["s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"]
DELETE_ACTIONS = ["s3:DeleteObject"]
EXPECTED: dict[str, list[str]] = {
    Access.READ: READ_ACTIONS,
    Access.WRITE: READ_ACTIONS + WRITE_ACTIONS,
    Access.DELETE: READ_ACTIONS + WRITE_ACTIONS + DELETE_ACTIONS,
}
EVERY_OBJECT_ACTION = READ_ACTIONS + WRITE_ACTIONS + DELETE_ACTIONS + ["s3:GetObjectAcl", "s3:PutObjectAcl"]


def policy(access: str, location: Location = RAW) -> dict[str, Any]:
    return policies.session_policy(location, access)


@pytest.mark.parametrize("access", list(Access))
def test_each_level_allows_exactly_its_object_actions_inside_the_space(access: str) -> None:
    document = policy(access)
    for action in EVERY_OBJECT_ACTION:
        for key in ("spaceport/raw/run.csv", "spaceport/raw/2024/01/deep/run.csv", "spaceport/raw/"):
            assert allowed(document, action, object_arn(BUCKET, key)) == (action in EXPECTED[access]), (action, key)


@pytest.mark.parametrize("access", list(Access))
@pytest.mark.parametrize(
    "key",
    [
        "spaceport/raw-archive/run.csv",
        "spaceport/raw",
        "spaceport/rawdata/x",
        "spaceport/other/run.csv",
        "spaceport/",
        "run.csv",
        "other/spaceport/raw/x",
        "",
    ],
)
def test_no_level_reaches_outside_the_space(access: str, key: str) -> None:
    document = policy(access)
    for action in EVERY_OBJECT_ACTION:
        assert not allowed(document, action, object_arn(BUCKET, key)), (action, key)


@pytest.mark.parametrize("access", list(Access))
def test_another_bucket_is_denied(access: str) -> None:
    document = policy(access)
    for action in EVERY_OBJECT_ACTION:
        assert not allowed(document, action, object_arn("acme-data-2", "spaceport/raw/run.csv"))
        assert not allowed(document, action, object_arn("other", "spaceport/raw/run.csv"))
    assert not may_list(document, "acme-data-2", "spaceport/raw/")
    assert not may_list(document, "acme-dat", "spaceport/raw/")


@pytest.mark.parametrize("access", list(Access))
def test_listing_only_with_a_prefix_inside_the_space(access: str) -> None:
    document = policy(access)
    assert may_list(document, BUCKET, "spaceport/raw/")
    assert may_list(document, BUCKET, "spaceport/raw/2024/")
    assert may_list(document, BUCKET, "spaceport/raw/2024/run")
    assert not may_list(document, BUCKET, None), "the bucket root, without a prefix"
    assert not may_list(document, BUCKET, "")
    assert not may_list(document, BUCKET, "spaceport/")
    assert not may_list(document, BUCKET, "spaceport/raw"), "would show the names of raw-archive/ and the like"
    assert not may_list(document, BUCKET, "spaceport/raw-archive/")
    assert not allowed(
        document, "s3:ListBucketVersions", policy_eval.bucket_arn(BUCKET), {"s3:prefix": "spaceport/raw/"}
    )
    assert not allowed(
        document, "s3:ListBucketMultipartUploads", policy_eval.bucket_arn(BUCKET), {"s3:prefix": "spaceport/raw/"}
    )


def test_a_prefix_without_its_closing_slash_still_ends_at_the_space() -> None:
    document = policy(Access.DELETE, Location(BUCKET, "raw"))
    assert allowed(document, "s3:DeleteObject", object_arn(BUCKET, "raw/x"))
    assert not allowed(document, "s3:DeleteObject", object_arn(BUCKET, "raw-archive/x"))
    assert not allowed(document, "s3:GetObject", object_arn(BUCKET, "rawx"))
    assert may_list(document, BUCKET, "raw/")
    assert not may_list(document, BUCKET, "raw")


def test_a_whole_bucket_is_never_vended() -> None:
    with pytest.raises(ValueError, match="prefix"):
        policies.session_policy(Location(BUCKET, ""), Access.READ)


@pytest.mark.parametrize(
    ("prefix", "inside", "outside"),
    [
        ("a*b/", "a*b/x.csv", ["axxb/x.csv", "ab/x.csv", "a/b/x.csv", "a*bc/x.csv"]),
        ("a?b/", "a?b/x.csv", ["axb/x.csv", "a/b/x.csv"]),
        ("a$b/", "a$b/x.csv", ["ab/x.csv", "a$bc/x.csv"]),
        ("${aws:username}/", "${aws:username}/x", ["alice/x", "$/x"]),
        ("*/", "*/x", ["raw/x", "x"]),
    ],
)
def test_wildcard_characters_in_names_match_only_themselves(prefix: str, inside: str, outside: list[str]) -> None:
    document = policy(Access.DELETE, Location(BUCKET, prefix))
    assert allowed(document, "s3:GetObject", object_arn(BUCKET, inside))
    assert allowed(document, "s3:DeleteObject", object_arn(BUCKET, inside))
    assert may_list(document, BUCKET, prefix)
    for key in outside:
        assert not allowed(document, "s3:GetObject", object_arn(BUCKET, key)), key
        assert not may_list(document, BUCKET, key.rsplit("/", 1)[0] + "/"), key


def test_escaping() -> None:
    assert policies.iam_literal("a*b?c$d") == "a${*}b${?}c${$}d"
    assert policies.iam_literal("${*}") == "${$}{${*}}"
    assert policies.iam_literal("plain/name-1.2/") == "plain/name-1.2/"


@pytest.mark.parametrize("access", list(Access))
def test_the_longest_names_fit_the_session_policy_limit(access: str) -> None:
    """A 63-character bucket and a 1024-character prefix full of wildcards is beyond any real space."""
    roomy = Location("b" * 63, "p" * 200 + "/" + "s" * 64 + "/")
    assert len(policies.packed(policy(access, roomy))) <= policies.MAX_POLICY_CHARACTERS
    with pytest.raises(policies.PolicyTooLong):
        policies.packed(policy(access, Location("b" * 63, "*" * 600 + "/")))


def test_the_document_as_sent() -> None:
    """Pinned, so that a change to what customers' CloudTrail shows is a deliberate one."""
    sent = json.loads(policies.packed(policy(Access.WRITE)))
    assert sent == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "List",
                "Effect": "Allow",
                "Action": "s3:ListBucket",
                "Resource": "arn:aws:s3:::acme-data",
                "Condition": {"StringLike": {"s3:prefix": ["spaceport/raw/*"]}},
            },
            {
                "Sid": "Objects",
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
                "Resource": "arn:aws:s3:::acme-data/spaceport/raw/*",
            },
        ],
    }
    assert " " not in policies.packed(policy(Access.WRITE))


# --- The evaluator itself: each rule it implements can fail -------------------------------------


def test_evaluator_wildcards_and_literals() -> None:
    assert policy_eval.matches("a*", "a/b/c")
    assert policy_eval.matches("a?c", "abc")
    assert not policy_eval.matches("a?c", "abbc")
    assert not policy_eval.matches("a${*}", "ab")
    assert policy_eval.matches("a${*}", "a*")
    assert policy_eval.matches("a${?}${$}", "a?$")
    assert not policy_eval.matches("abc", "abcd"), "patterns match whole strings"
    assert policy_eval.matches("S3:get*", "s3:GetObject", ignore_case=True)
    with pytest.raises(policy_eval.Unsupported):
        policy_eval.matches("${aws:username}", "alice")


def test_evaluator_deny_wins_and_silence_denies() -> None:
    document = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::b/*"},
            {"Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "arn:aws:s3:::b/keep/*"},
        ],
    }
    assert allowed(document, "s3:DeleteObject", object_arn("b", "x"))
    assert not allowed(document, "s3:DeleteObject", object_arn("b", "keep/x"))
    assert not allowed(document, "s3:GetObject", object_arn("c", "x"))


def test_evaluator_conditions() -> None:
    document: dict[str, Any] = {
        "Version": "2012-10-17",
        "Statement": {
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": "arn:aws:s3:::b",
            "Condition": {"StringEquals": {"s3:prefix": ["x/", "y*"]}},
        },
    }
    assert may_list(document, "b", "x/")
    assert may_list(document, "b", "y*")
    assert not may_list(document, "b", "yz"), "StringEquals has no wildcards"
    assert not may_list(document, "b", None)
    with pytest.raises(policy_eval.Unsupported):
        allowed({**document, "Version": "2008-10-17"}, "s3:ListBucket", "arn:aws:s3:::b")
    unknown = {"Version": "2012-10-17", "Statement": [{**document["Statement"], "Condition": {"IpAddress": {}}}]}
    with pytest.raises(policy_eval.Unsupported):
        allowed(unknown, "s3:ListBucket", "arn:aws:s3:::b")
    with pytest.raises(policy_eval.Unsupported):
        allowed(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "NotAction": "s3:*", "Resource": "*"}]},
            "s3:GetObject",
            "arn:aws:s3:::b/x",
        )
