"""The policy engine, as a table: a policy, a question, and the answer AWS's documented semantics give.

Each row is one policy of organization ``acme`` (statements in the order written, numbered from 1),
one question (action, resource, request context) and the expected outcome with the statements that
decided it. The semantics checked are AWS's: an explicit Deny wins, then an Allow, otherwise the
implicit deny; ``*`` and ``?`` match across ``/``; actions ignore case; several values of a condition
key are alternatives, except under negated operators; a missing key fails a condition and satisfies a
negated one; ``IfExists`` holds when the key is missing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest

from accessgrants.policies import Outcome, compile_policies, parse_policy, request_facts
from accessgrants.policies.roles import implied_policy
from portal.tenancy.grants import Role

ALLOWED, DENIED, IMPLICIT = Outcome.ALLOWED, Outcome.EXPLICIT_DENY, Outcome.IMPLICIT_DENY


def allow(action: Any, resource: Any = "acme-raw/*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action: Any, resource: Any = "acme-raw/*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


def when(operator: str, key: str, value: Any, action: str = "s3:ListBucket") -> dict[str, Any]:
    """Allow ``action`` on bucket acme-raw when one condition holds."""
    return allow(action, "arn:aws:s3:::acme-raw", Condition={operator: {key: value}})


@dataclass(frozen=True)
class Row:
    statements: tuple[dict[str, Any], ...]
    action: str
    resource: str
    expected: Outcome
    deciding: tuple[int, ...] = ()
    context: dict[str, Any] = field(default_factory=dict)
    version: str = "2012-10-17"

    def __str__(self) -> str:
        return f"{self.action} {self.resource} {self.context or ''} -> {self.expected}"


LIST = ("s3:ListBucket", "arn:aws:s3:::acme-raw")
T2029 = datetime(2029, 6, 1, tzinfo=UTC)
T2031 = datetime(2031, 6, 1, tzinfo=UTC)

ROWS = [
    # actions: exact, wildcards, case, NotAction, unknown questions
    Row((allow("s3:GetObject"),), "s3:GetObject", "arn:aws:s3:::acme-raw/a.csv", ALLOWED, (1,)),
    Row((allow("s3:GetObject"),), "s3:PutObject", "acme-raw/a.csv", IMPLICIT),
    Row((allow("s3:Get*"),), "s3:GetObjectTagging", "acme-raw/a.csv", ALLOWED, (1,)),
    Row((allow("s3:Get*"),), "s3:PutObject", "acme-raw/a.csv", IMPLICIT),
    Row((allow("s3:*"),), "s3:DeleteObject", "acme-raw/a.csv", ALLOWED, (1,)),
    Row((allow("*"),), "s3:PutObject", "acme-raw/a.csv", ALLOWED, (1,)),
    Row((allow("S3:getobject"),), "s3:GetObject", "acme-raw/a.csv", ALLOWED, (1,)),
    Row((allow("s3:GetObject"),), "S3:GETOBJECT", "acme-raw/a.csv", ALLOWED, (1,)),
    Row((allow("s3:?etObject"),), "s3:GetObject", "acme-raw/a.csv", ALLOWED, (1,)),
    Row((allow(["s3:PutObject", "s3:GetObject"]),), "s3:GetObject", "acme-raw/a", ALLOWED, (1,)),
    Row(
        ({"Effect": "Allow", "NotAction": "s3:Delete*", "Resource": "acme-raw/*"},),
        "s3:PutObject",
        "acme-raw/a",
        ALLOWED,
        (1,),
    ),
    Row(
        ({"Effect": "Allow", "NotAction": "s3:Delete*", "Resource": "acme-raw/*"},),
        "s3:DeleteObject",
        "acme-raw/a",
        IMPLICIT,
    ),
    Row((allow("s3:*"),), "s3:NoSuchAction", "acme-raw/a", IMPLICIT),
    # resources: ARN and short form, prefixes, * and ? across /, exact bucket, several
    Row(
        (allow("s3:GetObject", "arn:aws:s3:::acme-raw/in/*"),), "s3:GetObject", "acme-raw/in/2026/a.csv", ALLOWED, (1,)
    ),
    Row((allow("s3:GetObject", "acme-raw/in/*"),), "s3:GetObject", "arn:aws:s3:::acme-raw/out/a.csv", IMPLICIT),
    Row((allow("s3:GetObject", "acme-raw/*/in/*"),), "s3:GetObject", "acme-raw/x/y/in/z", ALLOWED, (1,)),
    Row((allow("s3:GetObject", "acme-raw/*/in/*"),), "s3:GetObject", "acme-raw/x/out/z", IMPLICIT),
    Row((allow("s3:GetObject", "acme-raw/file?.csv"),), "s3:GetObject", "acme-raw/file1.csv", ALLOWED, (1,)),
    Row((allow("s3:GetObject", "acme-raw/file?.csv"),), "s3:GetObject", "acme-raw/file10.csv", IMPLICIT),
    Row((allow("s3:GetObject", "acme-raw*"),), "s3:GetObject", "acme-raw/a", ALLOWED, (1,)),
    Row((allow("s3:GetObject", "acme-raw*"),), "s3:GetObject", "acme-rawer/a", ALLOWED, (1,)),
    Row((allow("s3:ListBucket", "arn:aws:s3:::acme-raw"),), *LIST, ALLOWED, (1,)),
    Row((allow("s3:ListBucket", "arn:aws:s3:::acme-raw"),), "s3:ListBucket", "acme-raw/x", IMPLICIT),
    Row((allow("s3:ListBucket", "acme-raw/*"),), *LIST, IMPLICIT),
    Row((allow("s3:GetObject", ["acme-a/*", "acme-b/*"]),), "s3:GetObject", "acme-b/k", ALLOWED, (1,)),
    Row((allow("s3:GetObject", "acme-*"),), "s3:GetObject", "acme-any/k", ALLOWED, (1,)),
    Row((allow("s3:GetObject", "acme-raw/A*"),), "s3:GetObject", "acme-raw/a", IMPLICIT),
    # NotResource: everything of the organization except; never another organization's buckets
    Row(
        ({"Effect": "Allow", "Action": "s3:GetObject", "NotResource": "acme-raw/secret/*"},),
        "s3:GetObject",
        "acme-raw/x",
        ALLOWED,
        (1,),
    ),
    Row(
        ({"Effect": "Allow", "Action": "s3:GetObject", "NotResource": "acme-raw/secret/*"},),
        "s3:GetObject",
        "acme-raw/secret/x",
        IMPLICIT,
    ),
    Row(
        ({"Effect": "Allow", "Action": "s3:GetObject", "NotResource": "acme-raw/secret/*"},),
        "s3:GetObject",
        "other-raw/x",
        IMPLICIT,
    ),
    Row(
        ({"Effect": "Deny", "Action": "s3:*", "NotResource": "acme-raw/*"}, allow("s3:*", "acme-*")),
        "s3:GetObject",
        "acme-cold/x",
        DENIED,
        (1,),
    ),
    Row(
        ({"Effect": "Deny", "Action": "s3:*", "NotResource": "acme-raw/*"}, allow("s3:*", "acme-*")),
        "s3:GetObject",
        "acme-raw/x",
        ALLOWED,
        (2,),
    ),
    # an explicit deny wins; every matching allow is named
    Row((allow("s3:*", "acme-*"), deny("s3:DeleteObject")), "s3:DeleteObject", "acme-raw/a", DENIED, (2,)),
    Row(
        (deny("s3:Delete*"), allow("s3:*", "acme-*"), deny("s3:*", "acme-raw/a")),
        "s3:DeleteObject",
        "acme-raw/a",
        DENIED,
        (1, 3),
    ),
    Row((allow("s3:*", "acme-*"), deny("s3:DeleteObject")), "s3:GetObject", "acme-raw/a", ALLOWED, (1,)),
    Row(
        (allow("s3:GetObject"), allow("s3:Get*", "acme-*"), allow("s3:Put*")),
        "s3:GetObject",
        "acme-raw/a",
        ALLOWED,
        (1, 2),
    ),
    Row((deny("s3:GetObject"),), "s3:GetObject", "acme-raw/a", DENIED, (1,)),
    Row((deny("s3:GetObject"),), "s3:PutObject", "acme-raw/a", IMPLICIT),
    # statements found through the bucket index and through wildcard buckets keep their policy order
    Row(
        (
            deny("s3:GetObject", "acme-raw/a"),
            deny("s3:*", "acme-r*"),
            deny("s3:Get*", "acme-raw/*"),
            allow("s3:*", "acme-*"),
        ),
        "s3:GetObject",
        "acme-raw/a",
        DENIED,
        (1, 2, 3),
    ),
    Row(
        (allow("s3:GetObject", "acme-raw/a"), allow("s3:*", "acme-r*"), allow("s3:Get*", "acme-cold/*")),
        "s3:GetObject",
        "acme-raw/a",
        ALLOWED,
        (1, 2),
    ),
    Row((allow("s3:GetObject", "acme-raw/a"), allow("s3:*", "acme-r*")), "s3:GetObject", "acme-rye/a", ALLOWED, (2,)),
    # StringEquals / StringNotEquals on s3:prefix and s3:delimiter
    Row((when("StringEquals", "s3:prefix", "home/"),), *LIST, ALLOWED, (1,), {"s3:prefix": "home/"}),
    Row((when("StringEquals", "s3:prefix", "home/"),), *LIST, IMPLICIT, (), {"s3:prefix": "home/x"}),
    Row((when("StringEquals", "s3:prefix", "home/"),), *LIST, IMPLICIT, (), {}),
    Row((when("StringEquals", "s3:prefix", "home/*"),), *LIST, IMPLICIT, (), {"s3:prefix": "home/x"}),
    Row((when("StringEquals", "s3:prefix", ["a/", "b/"]),), *LIST, ALLOWED, (1,), {"s3:prefix": "b/"}),
    Row((when("StringNotEquals", "s3:delimiter", "/"),), *LIST, IMPLICIT, (), {"s3:delimiter": "/"}),
    Row((when("StringNotEquals", "s3:delimiter", "/"),), *LIST, ALLOWED, (1,), {"s3:delimiter": "|"}),
    Row((when("StringNotEquals", "s3:delimiter", "/"),), *LIST, ALLOWED, (1,), {}),
    Row((when("StringNotEquals", "s3:prefix", ["a/", "b/"]),), *LIST, IMPLICIT, (), {"s3:prefix": "b/"}),
    Row((when("StringNotEquals", "s3:prefix", ["a/", "b/"]),), *LIST, ALLOWED, (1,), {"s3:prefix": "c/"}),
    Row((when("StringEqualsIgnoreCase", "aws:username", "Ada"),), *LIST, ALLOWED, (1,), {"aws:username": "ADA"}),
    Row((when("StringNotEqualsIgnoreCase", "aws:username", "Ada"),), *LIST, IMPLICIT, (), {"aws:username": "ada"}),
    # StringLike / StringNotLike: * any run, ? one character, case-sensitive
    Row((when("StringLike", "s3:prefix", "home/*"),), *LIST, ALLOWED, (1,), {"s3:prefix": "home/a/b"}),
    Row((when("StringLike", "s3:prefix", "home/*"),), *LIST, IMPLICIT, (), {"s3:prefix": "homes"}),
    Row((when("StringLike", "s3:prefix", "home/?"),), *LIST, ALLOWED, (1,), {"s3:prefix": "home/a"}),
    Row((when("StringLike", "s3:prefix", "home/?"),), *LIST, IMPLICIT, (), {"s3:prefix": "home/ab"}),
    Row((when("StringLike", "s3:prefix", "Home/*"),), *LIST, IMPLICIT, (), {"s3:prefix": "home/a"}),
    Row((when("StringLike", "s3:prefix", "home/*"),), *LIST, IMPLICIT, (), {}),
    Row((when("StringNotLike", "s3:prefix", "private/*"),), *LIST, IMPLICIT, (), {"s3:prefix": "private/x"}),
    Row((when("StringNotLike", "s3:prefix", "private/*"),), *LIST, ALLOWED, (1,), {"s3:prefix": "public/x"}),
    Row((when("StringNotLike", "s3:prefix", "private/*"),), *LIST, ALLOWED, (1,), {}),
    # IpAddress / NotIpAddress on aws:SourceIp: CIDRs, single addresses, IPv6
    Row((when("IpAddress", "aws:SourceIp", "10.0.0.0/8"),), *LIST, ALLOWED, (1,), {"aws:SourceIp": "10.1.2.3"}),
    Row((when("IpAddress", "aws:SourceIp", "10.0.0.0/8"),), *LIST, IMPLICIT, (), {"aws:SourceIp": "192.168.1.1"}),
    Row(
        (when("IpAddress", "aws:SourceIp", ["10.0.0.0/8", "203.0.113.7"]),),
        *LIST,
        ALLOWED,
        (1,),
        {"aws:SourceIp": "203.0.113.7"},
    ),
    Row((when("IpAddress", "aws:SourceIp", "2001:db8::/32"),), *LIST, ALLOWED, (1,), {"aws:SourceIp": "2001:db8::1"}),
    Row((when("IpAddress", "aws:SourceIp", "10.0.0.0/8"),), *LIST, IMPLICIT, (), {"aws:SourceIp": "2001:db8::1"}),
    Row((when("IpAddress", "aws:SourceIp", "10.0.0.0/8"),), *LIST, IMPLICIT, (), {}),
    Row((when("NotIpAddress", "aws:SourceIp", "10.0.0.0/8"),), *LIST, ALLOWED, (1,), {"aws:SourceIp": "192.168.1.1"}),
    Row((when("NotIpAddress", "aws:SourceIp", "10.0.0.0/8"),), *LIST, IMPLICIT, (), {"aws:SourceIp": "10.9.9.9"}),
    Row((when("NotIpAddress", "aws:SourceIp", "10.0.0.0/8"),), *LIST, ALLOWED, (1,), {}),
    # DateLessThan / DateGreaterThan on aws:CurrentTime (datetimes, ISO text, epoch seconds)
    Row(
        (when("DateLessThan", "aws:CurrentTime", "2030-01-01T00:00:00Z"),),
        *LIST,
        ALLOWED,
        (1,),
        {"aws:CurrentTime": T2029},
    ),
    Row(
        (when("DateLessThan", "aws:CurrentTime", "2030-01-01T00:00:00Z"),),
        *LIST,
        IMPLICIT,
        (),
        {"aws:CurrentTime": T2031},
    ),
    Row(
        (when("DateLessThan", "aws:CurrentTime", "2030-01-01"),),
        *LIST,
        ALLOWED,
        (1,),
        {"aws:CurrentTime": "2029-12-31T23:59:59Z"},
    ),
    Row((when("DateLessThan", "aws:CurrentTime", "1893456000"),), *LIST, ALLOWED, (1,), {"aws:CurrentTime": T2029}),
    Row(
        (when("DateGreaterThan", "aws:CurrentTime", "2030-01-01T00:00:00Z"),),
        *LIST,
        ALLOWED,
        (1,),
        {"aws:CurrentTime": T2031},
    ),
    Row(
        (when("DateGreaterThan", "aws:CurrentTime", "2030-01-01T00:00:00Z"),),
        *LIST,
        IMPLICIT,
        (),
        {"aws:CurrentTime": T2029},
    ),
    Row(
        (when("DateGreaterThan", "aws:CurrentTime", "2030-01-01T00:00:00+02:00"),),
        *LIST,
        ALLOWED,
        (1,),
        {"aws:CurrentTime": "2029-12-31T23:00:00Z"},
    ),
    Row(
        (when("DateLessThan", "aws:EpochTime", "2030-01-01T00:00:00Z"),),
        *LIST,
        ALLOWED,
        (1,),
        {"aws:EpochTime": 1_800_000_000},
    ),
    Row((when("DateLessThan", "aws:CurrentTime", "2030-01-01T00:00:00Z"),), *LIST, IMPLICIT, (), {}),
    # Bool on aws:SecureTransport, the usual "deny plain HTTP" guard
    Row((when("Bool", "aws:SecureTransport", "true"),), *LIST, ALLOWED, (1,), {"aws:SecureTransport": True}),
    Row((when("Bool", "aws:SecureTransport", "true"),), *LIST, ALLOWED, (1,), {"aws:SecureTransport": "TRUE"}),
    Row((when("Bool", "aws:SecureTransport", True),), *LIST, IMPLICIT, (), {"aws:SecureTransport": False}),
    Row((when("Bool", "aws:SecureTransport", "true"),), *LIST, IMPLICIT, (), {}),
    Row(
        (allow("s3:*", "acme-*"), deny("s3:*", "acme-*", Condition={"Bool": {"aws:SecureTransport": "false"}})),
        "s3:GetObject",
        "acme-raw/a",
        DENIED,
        (2,),
        {"aws:SecureTransport": False},
    ),
    Row(
        (allow("s3:*", "acme-*"), deny("s3:*", "acme-*", Condition={"Bool": {"aws:SecureTransport": "false"}})),
        "s3:GetObject",
        "acme-raw/a",
        ALLOWED,
        (1,),
        {"aws:SecureTransport": True},
    ),
    # NumericLessThan and friends on s3:max-keys
    Row((when("NumericLessThan", "s3:max-keys", "100"),), *LIST, ALLOWED, (1,), {"s3:max-keys": "50"}),
    Row((when("NumericLessThan", "s3:max-keys", 100),), *LIST, IMPLICIT, (), {"s3:max-keys": 100}),
    Row((when("NumericLessThan", "s3:max-keys", "100"),), *LIST, IMPLICIT, (), {"s3:max-keys": "500"}),
    Row((when("NumericLessThan", "s3:max-keys", "100"),), *LIST, IMPLICIT, (), {"s3:max-keys": "many"}),
    Row((when("NumericLessThan", "s3:max-keys", "100"),), *LIST, IMPLICIT, (), {}),
    Row((when("NumericLessThanEquals", "s3:max-keys", "100"),), *LIST, ALLOWED, (1,), {"s3:max-keys": "100"}),
    Row((when("NumericGreaterThan", "s3:max-keys", "100"),), *LIST, ALLOWED, (1,), {"s3:max-keys": "101"}),
    Row((when("NumericEquals", "s3:max-keys", "100"),), *LIST, ALLOWED, (1,), {"s3:max-keys": "100.0"}),
    Row((when("NumericNotEquals", "s3:max-keys", "100"),), *LIST, IMPLICIT, (), {"s3:max-keys": "100"}),
    # aws:PrincipalTag/*, whose key name ignores case as AWS's do
    Row(
        (when("StringEquals", "aws:PrincipalTag/team", "blue"),),
        *LIST,
        ALLOWED,
        (1,),
        {"aws:PrincipalTag/team": "blue"},
    ),
    Row(
        (when("StringEquals", "aws:PrincipalTag/team", "blue"),),
        *LIST,
        ALLOWED,
        (1,),
        {"aws:principaltag/TEAM": "blue"},
    ),
    Row(
        (when("StringEquals", "aws:PrincipalTag/team", "blue"),), *LIST, IMPLICIT, (), {"aws:PrincipalTag/team": "red"}
    ),
    Row(
        (when("StringEquals", "aws:PrincipalTag/team", "blue"),), *LIST, IMPLICIT, (), {"aws:PrincipalTag/unit": "blue"}
    ),
    # IfExists and Null
    Row((when("StringEqualsIfExists", "s3:prefix", "home/"),), *LIST, ALLOWED, (1,), {}),
    Row((when("StringEqualsIfExists", "s3:prefix", "home/"),), *LIST, IMPLICIT, (), {"s3:prefix": "x/"}),
    Row((when("NumericLessThanIfExists", "s3:max-keys", "10"),), *LIST, ALLOWED, (1,), {}),
    Row((when("Null", "s3:prefix", "true"),), *LIST, ALLOWED, (1,), {}),
    Row((when("Null", "s3:prefix", "true"),), *LIST, IMPLICIT, (), {"s3:prefix": "a/"}),
    Row((when("Null", "s3:prefix", "false"),), *LIST, ALLOWED, (1,), {"s3:prefix": "a/"}),
    # several keys, several operators: all must hold
    Row(
        (
            allow(
                "s3:ListBucket",
                "arn:aws:s3:::acme-raw",
                Condition={"StringLike": {"s3:prefix": "home/*"}, "IpAddress": {"aws:SourceIp": "10.0.0.0/8"}},
            ),
        ),
        *LIST,
        ALLOWED,
        (1,),
        {"s3:prefix": "home/a", "aws:SourceIp": "10.0.0.1"},
    ),
    Row(
        (
            allow(
                "s3:ListBucket",
                "arn:aws:s3:::acme-raw",
                Condition={"StringLike": {"s3:prefix": "home/*"}, "IpAddress": {"aws:SourceIp": "10.0.0.0/8"}},
            ),
        ),
        *LIST,
        IMPLICIT,
        (),
        {"s3:prefix": "home/a", "aws:SourceIp": "11.0.0.1"},
    ),
    Row(
        (
            allow(
                "s3:ListBucket",
                "arn:aws:s3:::acme-raw",
                Condition={"StringEquals": {"s3:prefix": "home/", "s3:delimiter": "/"}},
            ),
        ),
        *LIST,
        IMPLICIT,
        (),
        {"s3:prefix": "home/"},
    ),
    # policy variables (version 2012-10-17): the request's value, literal; default; none -> no match
    Row(
        (allow("s3:GetObject", "acme-home/${aws:username}/*"),),
        "s3:GetObject",
        "acme-home/ada/x",
        ALLOWED,
        (1,),
        {"aws:username": "ada"},
    ),
    Row(
        (allow("s3:GetObject", "acme-home/${aws:username}/*"),),
        "s3:GetObject",
        "acme-home/bob/x",
        IMPLICIT,
        (),
        {"aws:username": "ada"},
    ),
    Row(
        (allow("s3:GetObject", "acme-home/${aws:username}/*"),),
        "s3:GetObject",
        "acme-home/ada/x",
        IMPLICIT,
        (),
        {"aws:username": "*"},
    ),
    Row((allow("s3:GetObject", "acme-home/${aws:username}/*"),), "s3:GetObject", "acme-home/ada/x", IMPLICIT, (), {}),
    Row(
        (allow("s3:GetObject", "acme-home/${aws:PrincipalTag/team, 'shared'}/*"),),
        "s3:GetObject",
        "acme-home/shared/x",
        ALLOWED,
        (1,),
        {},
    ),
    Row(
        (allow("s3:GetObject", "acme-home/${aws:PrincipalTag/team, 'shared'}/*"),),
        "s3:GetObject",
        "acme-home/blue/x",
        ALLOWED,
        (1,),
        {"aws:PrincipalTag/team": "blue"},
    ),
    Row((allow("s3:GetObject", "acme-home/${*}"),), "s3:GetObject", "acme-home/*", ALLOWED, (1,)),
    Row((allow("s3:GetObject", "acme-home/${*}"),), "s3:GetObject", "acme-home/x", IMPLICIT),
    Row(
        (when("StringLike", "s3:prefix", "${aws:username}/*"),),
        *LIST,
        ALLOWED,
        (1,),
        {"s3:prefix": "ada/2026", "aws:username": "ada"},
    ),
    Row(
        (when("StringLike", "s3:prefix", "${aws:username}/*"),),
        *LIST,
        IMPLICIT,
        (),
        {"s3:prefix": "bob/2026", "aws:username": "ada"},
    ),
    Row(
        (allow("s3:GetObject", "acme-home/${aws:username}/*"),),
        "s3:GetObject",
        "acme-home/${aws:username}/x",
        ALLOWED,
        (1,),
        {"aws:username": "ada"},
        "2008-10-17",
    ),
    Row(
        (allow("s3:GetObject", "acme-home/${aws:username}/*"),),
        "s3:GetObject",
        "acme-home/ada/x",
        IMPLICIT,
        (),
        {"aws:username": "ada"},
        "2008-10-17",
    ),
]


@pytest.mark.parametrize("row", ROWS, ids=str)
def test_policy_answers(row: Row) -> None:
    document = parse_policy({"Version": row.version, "Statement": list(row.statements)}, organization="acme", name="p")
    decision = compile_policies([document]).evaluate(row.action, row.resource, row.context)
    assert decision.outcome == row.expected
    assert decision.allowed == (row.expected == ALLOWED)
    assert tuple(ref.index for ref in decision.statements) == row.deciding


def test_decision_names_the_deciding_statements() -> None:
    document = parse_policy(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Sid": "Everything", **allow("s3:*", "acme-*")},
                {"Sid": "KeepSecrets", **deny("s3:GetObject", "acme-raw/secret/*")},
            ],
        },
        organization="acme",
        name="analysts",
    )
    policies = compile_policies([document])
    denied = policies.evaluate("s3:GetObject", "acme-raw/secret/plan.txt")
    assert denied.reason == "denied by analysts statement 2 (KeepSecrets)"
    assert [(ref.policy, ref.sid, ref.effect) for ref in denied.statements] == [("analysts", "KeepSecrets", "Deny")]
    assert policies.evaluate("s3:GetObject", "acme-raw/a").reason == "allowed by analysts statement 1 (Everything)"
    assert policies.evaluate("s3:GetObject", "other-raw/a").reason == "no statement allowed it"


ROLE_ROWS = [
    (Role.USER, "s3:ListBucket", "acme-raw", True),
    (Role.USER, "s3:GetObject", "acme-raw/a", True),
    (Role.USER, "s3:GetBucketLocation", "acme-raw", True),
    (Role.USER, "s3:PutObject", "acme-raw/a", False),
    (Role.USER, "s3:DeleteObject", "acme-raw/a", False),
    (Role.USER, "s3:GetObject", "acme-cold/a", False),
    (Role.SUPPLIER, "s3:GetObject", "acme-raw/a", True),
    (Role.SUPPLIER, "s3:PutObject", "acme-raw/a", True),
    (Role.SUPPLIER, "s3:AbortMultipartUpload", "acme-raw/a", True),
    (Role.SUPPLIER, "s3:DeleteObject", "acme-raw/a", False),
    (Role.TRUSTEE, "s3:PutObject", "acme-raw/a", True),
    (Role.TRUSTEE, "s3:DeleteObject", "acme-raw/a", True),
    (Role.TRUSTEE, "s3:DeleteObjectVersion", "acme-raw/a", True),
    (Role.TRUSTEE, "s3:PutBucketPolicy", "acme-raw", False),
    (Role.TRUSTEE, "s3:DeleteBucket", "acme-raw", False),
    (Role.ADMIN, "s3:GetObject", "acme-raw/a", False),
]


@pytest.mark.parametrize(("role", "action", "resource", "expected"), ROLE_ROWS)
def test_space_roles_are_implied_policies(role: str, action: str, resource: str, expected: bool) -> None:
    policies = compile_policies([implied_policy("acme", [("raw", role)])])
    decision = policies.evaluate(action, resource)
    assert decision.allowed is expected
    if expected:
        assert str(decision.statements[0]) == f"space roles statement 1 ({role}-raw)"


def test_one_evaluation_answers_for_roles_and_policies_together() -> None:
    """A trustee may delete through the role, unless a policy denies it; a policy may add a space."""
    roles = implied_policy("acme", [("raw", Role.TRUSTEE), ("cold", Role.USER)])
    policy = parse_policy(
        {
            "Version": "2012-10-17",
            "Statement": [deny("s3:Delete*", "acme-raw/keep/*"), allow("s3:PutObject", "acme-cold/in/*")],
        },
        organization="acme",
        name="limits",
    )
    policies = compile_policies([roles, policy])
    assert policies.evaluate("s3:DeleteObject", "acme-raw/tmp/a").allowed
    kept = policies.evaluate("s3:DeleteObject", "acme-raw/keep/a")
    assert not kept.allowed
    assert kept.reason == "denied by limits statement 1"
    assert policies.evaluate("s3:PutObject", "acme-cold/in/a").allowed
    assert not policies.evaluate("s3:PutObject", "acme-cold/out/a").allowed
    assert policies.evaluate("s3:GetObject", "acme-cold/out/a").allowed


def test_context_keys_are_what_the_policies_read() -> None:
    document = parse_policy(
        {
            "Version": "2012-10-17",
            "Statement": [
                allow("s3:GetObject", "acme-home/${aws:username}/*"),
                when("IpAddress", "aws:SourceIp", "10.0.0.0/8"),
            ],
        },
        organization="acme",
    )
    assert compile_policies([document]).context_keys == ("aws:sourceip", "aws:username")
    assert compile_policies([implied_policy("acme", [("raw", Role.USER)])]).context_keys == ()


def test_request_facts_are_built_once_per_request() -> None:
    """A request's context in lookup form: keys in any case, absent facts left out, reused for every question."""
    facts = request_facts({"aws:SourceIp": "10.0.0.1", "S3:Prefix": "home/"}, **{"aws:username": None})
    assert dict(facts) == {"aws:sourceip": "10.0.0.1", "s3:prefix": "home/"}
    policies = compile_policies(
        [
            parse_policy(
                {"Version": "2012-10-17", "Statement": [when("IpAddress", "aws:SourceIp", "10.0.0.0/8")]},
                organization="acme",
            )
        ]
    )
    assert policies.evaluate(*LIST, facts).allowed
    assert not policies.evaluate(*LIST, request_facts({"AWS:SOURCEIP": "11.0.0.1"})).allowed
