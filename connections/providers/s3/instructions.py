"""The S3 identity policy a customer gives Spaceport's user or role: its part of the bucket, nothing more."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from connections.providers.wizard import PLACEHOLDER_BUCKET, Instruction, as_json

if TYPE_CHECKING:
    from connections.models import CloudConnection


def s3_permission_policy(bucket: str, prefix: str) -> dict[str, Any]:
    """Least privilege for Spaceport on the bucket: list its part, and manage objects below it."""
    listing: dict[str, Any] = {
        "Sid": "SpaceportList",
        "Effect": "Allow",
        "Action": ["s3:ListBucket", "s3:GetBucketLocation"],
        "Resource": f"arn:aws:s3:::{bucket}",
    }
    if prefix:
        listing["Condition"] = {"StringLike": {"s3:prefix": [f"{prefix}*"]}}
    return {
        "Version": "2012-10-17",
        "Statement": [
            listing,
            {
                "Sid": "SpaceportObjects",
                "Effect": "Allow",
                "Action": [
                    "s3:GetObject",
                    "s3:PutObject",
                    "s3:DeleteObject",
                    "s3:AbortMultipartUpload",
                    "s3:ListMultipartUploadParts",
                ],
                "Resource": f"arn:aws:s3:::{bucket}/{prefix}*",
            },
        ],
    }


def store_user_steps(connection: CloudConnection) -> list[Instruction]:
    """For a user on an S3 store (VAST, MinIO, Ceph, IBM COS): the policy to attach to it."""
    config = connection.config or {}
    return [
        Instruction(
            "Identity policy for Spaceport's user (S3 policy syntax; VAST, MinIO and Ceph accept it)",
            as_json(s3_permission_policy(config.get("bucket") or PLACEHOLDER_BUCKET, config.get("prefix", ""))),
        )
    ]
