"""Policies Spaceport refuses on save, each with the message that names the statement, field and problem."""

from __future__ import annotations

import json
from typing import Any

import pytest

from accessgrants.policies import PolicyError, parse_policy
from portal.tenancy.changes import create_space
from portal.tenancy.models import Organization

GOOD = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::acme-raw/*"}


def statements(*items: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(items)}


def with_(**fields: Any) -> dict[str, Any]:
    statement = {**GOOD, **fields}
    return {key: value for key, value in statement.items() if value is not None}


REFUSALS = [
    ('{"Version": "2012-10-17", "Statement": [', "Policy: not valid JSON: Expecting value at line 1 column 41"),
    (
        '{"Version": "2012-10-17", "Version": "2008-10-17", "Statement": []}',
        "Policy: 'Version' appears twice in one object",
    ),
    ("[]", "Policy: a policy is a JSON object with Version and Statement"),
    (
        {"Version": "2012-10-17", "Statement": [GOOD], "Principal": "*"},
        "Principal: unknown policy element; a policy has Version, Id and Statement",
    ),
    ({"Version": "2024-01-01", "Statement": [GOOD]}, "Version: '2024-01-01' is not a policy version; use '2012-10-17'"),
    ({"Version": "2012-10-17", "Statement": []}, "Statement: a policy needs a list of one or more statements"),
    (statements(GOOD, "Allow"), "Statement 2, Statement: each statement is a JSON object"),
    (
        statements(with_(Principal="*")),
        "Statement 1, Principal: unknown statement element (identity policies apply to their "
        "holder and name no principal)",
    ),
    (statements(with_(Effect="allow")), "Statement 1, Effect: 'allow' is neither 'Allow' nor 'Deny'"),
    (statements(with_(Effect=None)), "Statement 1, Effect: None is neither 'Allow' nor 'Deny'"),
    (statements(with_(Sid="has space")), "Statement 1, Sid: letters, digits and . _ : - only"),
    (statements(with_(Sid="One"), with_(Sid="One")), "Statement 2, Sid: 'One' is used by more than one statement"),
    (statements(with_(NotAction="s3:PutObject")), "Statement 1, Action: give exactly one of Action and NotAction"),
    (statements(with_(Action=None)), "Statement 1, Action: give exactly one of Action and NotAction"),
    (statements(GOOD, GOOD, with_(Action="s3:GetObjectz")), "Statement 3, Action: unknown action s3:GetObjectz"),
    (
        statements(with_(Action=["s3:GetObject", "ec2:*"])),
        "Statement 1, Action: unknown action ec2:* (Spaceport policies govern S3 actions, s3:...)",
    ),
    (
        statements(with_(Action="s3:")),
        "Statement 1, Action: unknown action s3: (Spaceport policies govern S3 actions, s3:...)",
    ),
    (statements(with_(Action="s3:Gett*")), "Statement 1, Action: s3:Gett* matches no S3 action"),
    (statements(with_(Action=None, NotAction="s3:Frobnicate")), "Statement 1, NotAction: unknown action s3:Frobnicate"),
    (statements(with_(Action=[])), "Statement 1, Action: a non-empty string or a list of non-empty strings"),
    (statements(with_(Action=7)), "Statement 1, Action: a non-empty string or a list of non-empty strings"),
    (statements(with_(Resource=None)), "Statement 1, Resource: give exactly one of Resource and NotResource"),
    (
        statements(with_(Resource="*")),
        "Statement 1, Resource: * is a wildcard that would cover every organization's buckets; start it with acme-",
    ),
    (
        statements(with_(Resource="arn:aws:s3:::*")),
        "Statement 1, Resource: arn:aws:s3:::* is a wildcard that would cover every organization's "
        "buckets; start it with acme-",
    ),
    (
        statements(with_(Resource="arn:aws:s3:::*/acme-raw/*")),
        "Statement 1, Resource: arn:aws:s3:::*/acme-raw/* is a wildcard that would cover every "
        "organization's buckets; start it with acme-",
    ),
    (
        statements(with_(Resource="acme*")),
        "Statement 1, Resource: acme* is a wildcard that would cover other organizations' buckets; start it with acme-",
    ),
    (
        statements(with_(Resource="arn:aws:s3:::ac?e-raw/*")),
        "Statement 1, Resource: arn:aws:s3:::ac?e-raw/* is a wildcard that would cover other "
        "organizations' buckets; start it with acme-",
    ),
    (
        statements(with_(Resource="${aws:username}-raw/*")),
        "Statement 1, Resource: ${aws:username}-raw/* is a wildcard that would cover every "
        "organization's buckets; start it with acme-",
    ),
    (
        statements(with_(Resource=None, NotResource="*")),
        "Statement 1, NotResource: * is a wildcard that would cover every organization's buckets; start it with acme-",
    ),
    (
        statements(with_(Resource="arn:aws:s3:::other-raw/*")),
        "Statement 1, Resource: arn:aws:s3:::other-raw/* names a bucket of organization 'other', outside 'acme'",
    ),
    (
        statements(with_(Resource="acmecorp-raw")),
        "Statement 1, Resource: acmecorp-raw names a bucket of organization 'acmecorp', outside 'acme'",
    ),
    (
        statements(with_(Resource="other-*")),
        "Statement 1, Resource: other-* names a bucket of organization 'other', outside 'acme'",
    ),
    (
        statements(with_(Resource=["acme-raw/*", "arn:aws:s3:::acme"])),
        "Statement 1, Resource: arn:aws:s3:::acme is no bucket of organization 'acme' (those are acme-<space>)",
    ),
    (
        statements(with_(Resource="arn:aws:iam::123456789012:user/ada")),
        "Statement 1, Resource: arn:aws:iam::123456789012:user/ada is not an S3 bucket or object "
        "(arn:aws:s3:::<bucket>[/<key>])",
    ),
    (
        statements(with_(Resource="acme-raw/${aws:nosuchkey}/*")),
        "Statement 1, Resource: unknown policy variable ${aws:nosuchkey}",
    ),
    (
        statements(with_(Condition="yes")),
        "Statement 1, Condition: a JSON object of operators, each with keys and values",
    ),
    (
        statements(with_(Condition={"StringLikes": {"s3:prefix": "a"}})),
        "Statement 1, Condition: unknown condition operator StringLikes",
    ),
    (
        statements(with_(Condition={"stringlike": {"s3:prefix": "a"}})),
        "Statement 1, Condition: unknown condition operator stringlike (did you mean StringLike?)",
    ),
    (
        statements(with_(Condition={"ForAnyValue:StringLike": {"s3:prefix": "a"}})),
        "Statement 1, Condition: unknown condition operator ForAnyValue:StringLike",
    ),
    (
        statements(with_(Condition={"NullIfExists": {"s3:prefix": "true"}})),
        "Statement 1, Condition: unknown condition operator NullIfExists",
    ),
    (
        statements(with_(Condition={"StringLike": {}})),
        "Statement 1, Condition: StringLike needs an object of condition keys and values",
    ),
    (
        statements(with_(Condition={"StringLike": {"s3:prefx": "a"}})),
        "Statement 1, Condition: StringLike: unknown condition key s3:prefx",
    ),
    (
        statements(with_(Condition={"StringLike": {"aws:PrincipalTag/": "a"}})),
        "Statement 1, Condition: StringLike: unknown condition key aws:PrincipalTag/",
    ),
    (
        statements(with_(Condition={"StringLike": {"s3:prefix": []}})),
        "Statement 1, Condition: StringLike: s3:prefix needs at least one value",
    ),
    (
        statements(with_(Condition={"StringLike": {"s3:prefix": {"a": 1}}})),
        "Statement 1, Condition: StringLike: s3:prefix takes strings, numbers or booleans",
    ),
    (
        statements(with_(Condition={"StringLike": {"s3:prefix": "${aws:nosuch}/*"}})),
        "Statement 1, Condition: s3:prefix: unknown policy variable ${aws:nosuch}",
    ),
    (
        statements(with_(Condition={"IpAddress": {"aws:SourceIp": "10.0.0.300/8"}})),
        "Statement 1, Condition: aws:SourceIp: IpAddress: '10.0.0.300/8' is not an IP address or CIDR block",
    ),
    (
        statements(with_(Condition={"NotIpAddress": {"aws:SourceIp": ["10.0.0.0/8", "me"]}})),
        "Statement 1, Condition: aws:SourceIp: NotIpAddress: 'me' is not an IP address or CIDR block",
    ),
    (
        statements(with_(Condition={"DateLessThan": {"aws:CurrentTime": "tomorrow"}})),
        "Statement 1, Condition: aws:CurrentTime: DateLessThan: 'tomorrow' is not a date (ISO 8601 "
        "or seconds since 1970)",
    ),
    (
        statements(with_(Condition={"DateGreaterThan": {"aws:CurrentTime": "2026-13-01"}})),
        "Statement 1, Condition: aws:CurrentTime: DateGreaterThan: '2026-13-01' is not a date (ISO "
        "8601 or seconds since 1970)",
    ),
    (
        statements(with_(Condition={"DateLessThan": {"aws:CurrentTime": "99999999999999999"}})),
        "Statement 1, Condition: aws:CurrentTime: DateLessThan: '99999999999999999' is not a date "
        "(ISO 8601 or seconds since 1970)",
    ),
    ("[" * 30_000 + "]" * 30_000, "Policy: nested too deeply to be a policy"),
    (
        statements(with_(Condition={"NumericLessThan": {"s3:max-keys": "ten"}})),
        "Statement 1, Condition: s3:max-keys: NumericLessThan: 'ten' is not a number",
    ),
    (
        statements(with_(Condition={"NumericLessThan": {"s3:max-keys": "nan"}})),
        "Statement 1, Condition: s3:max-keys: NumericLessThan: 'nan' is not a number",
    ),
    (
        statements(with_(Condition={"Bool": {"aws:SecureTransport": "yes"}})),
        "Statement 1, Condition: aws:SecureTransport: Bool: 'yes' is not true or false",
    ),
    (
        statements(with_(Condition={"Null": {"s3:prefix": "maybe"}})),
        "Statement 1, Condition: s3:prefix: Null: 'maybe' is not true or false",
    ),
    (json.dumps(statements(*[GOOD] * 2000)), "Policy: longer than 65536 characters"),
]


@pytest.mark.parametrize(("policy", "message"), REFUSALS, ids=[message for _, message in REFUSALS])
def test_refused_with_statement_and_field(policy: str | dict[str, Any], message: str) -> None:
    with pytest.raises(PolicyError) as refused:
        parse_policy(policy, organization="acme")
    assert str(refused.value) == message


def test_error_carries_statement_and_field_apart() -> None:
    with pytest.raises(PolicyError) as refused:
        parse_policy(statements(GOOD, GOOD, with_(Action="s3:GetObjectz")), organization="acme")
    assert (refused.value.statement, refused.value.field) == (3, "Action")
    assert refused.value.message == "unknown action s3:GetObjectz"


def test_accepted_policy_is_typed_and_canonical() -> None:
    document = parse_policy(
        json.dumps(
            {
                "Version": "2012-10-17",
                "Id": "analysts",
                "Statement": {
                    "Sid": "Read",
                    "Effect": "Allow",
                    "Action": ["S3:GETOBJECT", "s3:List*"],
                    "Resource": ["arn:aws:s3:::acme-raw", "acme-raw/*"],
                    "Condition": {"stringLikeIfExists".replace("s", "S", 1): {"S3:Prefix": ["home/", 1, True]}},
                },
            }
        ),
        organization="acme",
        name="analysts",
    )
    (statement,) = document.statements
    assert statement.actions == ("s3:GetObject", "s3:List*")
    assert statement.resources == ("acme-raw", "acme-raw/*")
    (condition,) = statement.conditions
    assert (condition.operator, condition.if_exists, condition.key) == ("StringLike", True, "s3:prefix")
    assert condition.values == ("home/", "1", "true")


def test_reference_style_short_resources_are_accepted() -> None:
    """The VAST reference writes resources as ``bucket`` and ``bucket/prefix/*`` without the ARN."""
    document = parse_policy(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Sid": "Stmt1", "Action": ["s3:ListBucket"], "Effect": "Allow", "Resource": "acme-vastdbsec"},
                {
                    "Sid": "Stmt2",
                    "Action": ["s3:GetObject"],
                    "Effect": "Allow",
                    "Resource": "acme-vastdbsec/department_a/*",
                },
            ],
        },
        organization="acme",
    )
    assert [s.resources for s in document.statements] == [("acme-vastdbsec",), ("acme-vastdbsec/department_a/*",)]


def test_resources_must_name_a_space_of_the_organization(organization: Organization) -> None:
    """With the organization's spaces at hand, a bucket that shows no space of it is refused as well."""
    create_space(organization, name="raw-data")
    spaces = list(organization.spaces.values_list("name", flat=True))
    prefix = f"arn:aws:s3:::{organization.name}-"
    policy = statements(with_(Resource=[f"{prefix}raw-data/*", f"{prefix}loadingzone", f"{prefix}r*"]))
    assert parse_policy(policy, organization=organization.name, spaces=spaces).statements
    with pytest.raises(PolicyError) as refused:
        parse_policy(statements(with_(Resource=f"{prefix}nosuch/*")), organization=organization.name, spaces=spaces)
    assert str(refused.value) == (
        f"Statement 1, Resource: {prefix}nosuch/*: organization {organization.name!r} has no space shown as "
        f"{organization.name}-nosuch"
    )
