"""The S3 session policy that narrows a temporary credential to one space and one access level.

AWS intersects a session policy with the role's (or the user's) own policy, so whatever the
customer granted Spaceport on the bucket, the credential can do only what is written here: the
objects under the space's prefix, and listing with that prefix.
"""

from __future__ import annotations

import json
from typing import Any

from connections.providers.base import Location
from connections.providers.vending import Access, space_prefix

# AWS counts the plaintext of a session policy against this limit, whitespace included.
MAX_POLICY_CHARACTERS = 2048

# IAM reads these three as wildcards or the start of a policy variable; ${x} writes each literally.
IAM_LITERALS = str.maketrans({"*": "${*}", "?": "${?}", "$": "${$}"})

OBJECT_ACTIONS: dict[str, list[str]] = {
    Access.READ: ["s3:GetObject"],
    Access.WRITE: ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
    Access.DELETE: [
        "s3:GetObject",
        "s3:PutObject",
        "s3:AbortMultipartUpload",
        "s3:ListMultipartUploadParts",
        "s3:DeleteObject",
    ],
}


class PolicyTooLong(ValueError):
    """The bucket and prefix make a policy AWS would refuse; no shorter form says the same."""


def iam_literal(text: str) -> str:
    """``text`` as an IAM pattern that matches exactly ``text``, even when it contains ``*``, ``?`` or ``$``."""
    return text.translate(IAM_LITERALS)


def session_policy(location: Location, access: str) -> dict[str, Any]:
    """The policy for ``access`` on ``location``.

    Listing is allowed only with an ``s3:prefix`` inside the space (``raw/`` itself included,
    ``raw`` without the slash not, since that would show the names of neighbouring spaces).
    ``s3:ListBucketMultipartUploads`` is left out: it takes no ``s3:prefix`` condition, so it
    would show every upload in the bucket, and uploading needs it only to clean up after others.
    """
    prefix = iam_literal(space_prefix(location))
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "List",
                "Effect": "Allow",
                "Action": "s3:ListBucket",
                "Resource": f"arn:aws:s3:::{location.bucket}",
                "Condition": {"StringLike": {"s3:prefix": [f"{prefix}*"]}},
            },
            {
                "Sid": "Objects",
                "Effect": "Allow",
                "Action": OBJECT_ACTIONS[Access(access)],
                "Resource": f"arn:aws:s3:::{location.bucket}/{prefix}*",
            },
        ],
    }


def packed(policy: dict[str, Any]) -> str:
    """The policy as sent to STS: compact JSON, checked against AWS's length limit."""
    text = json.dumps(policy, separators=(",", ":"))
    if len(text) > MAX_POLICY_CHARACTERS:
        raise PolicyTooLong(
            f"The session policy would be {len(text)} characters; AWS accepts at most {MAX_POLICY_CHARACTERS}."
        )
    return text
