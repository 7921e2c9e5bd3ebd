"""Amazon S3: checks for what a customer enters, with messages that say how to fix it."""

from __future__ import annotations

import re
from typing import Any

from connections.inputs import text

ROLE_ARN = re.compile(r"^arn:aws(?:-[a-z]+)*:iam::(?P<account>\d{12}):role/[\w+=,.@/-]{1,512}$")
AWS_REGION = re.compile(r"^[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}$")


def role_arn(value: Any) -> str:
    value = text(value, max_length=2048)
    if not ROLE_ARN.match(value):
        raise ValueError("Enter an IAM role ARN such as arn:aws:iam::123456789012:role/SpaceportAccess.")
    return value


def aws_region(value: Any) -> str:
    value = text(value, max_length=32)
    if not AWS_REGION.match(value):
        raise ValueError("Enter an AWS region such as eu-central-1.")
    return value
