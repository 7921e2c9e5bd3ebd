"""The S3 actions a Spaceport policy may name, in one table, with the access each one needs.

The table is the single source for three things: which names a policy may use (anything else is
refused on save, so a typo cannot silently grant nothing), what ``s3:Get*`` expands to (wildcards are
resolved against this table once, when a policy is compiled), and which actions a space role implies
(:mod:`accessgrants.policies.roles`). Names follow AWS's service authorization reference for Amazon
S3; AWS compares action names without regard to case, and so does Spaceport.
"""

from __future__ import annotations

from enum import StrEnum

SERVICE = "s3"


class Access(StrEnum):
    """What an action does to a space; roles imply the first four, never ``manage``."""

    LIST = "list"
    READ = "read"
    WRITE = "write"
    DELETE = "delete"
    MANAGE = "manage"


_L, _R, _W, _D, _M = Access.LIST, Access.READ, Access.WRITE, Access.DELETE, Access.MANAGE

ACTIONS: dict[str, Access] = {
    # listing: what a client needs to find its way around a space
    "s3:ListAllMyBuckets": _L,
    "s3:ListBucket": _L,
    "s3:ListBucketVersions": _L,
    "s3:ListBucketMultipartUploads": _L,
    "s3:ListMultipartUploadParts": _L,
    "s3:GetBucketLocation": _L,
    # reading objects
    "s3:GetObject": _R,
    "s3:GetObjectVersion": _R,
    "s3:GetObjectAttributes": _R,
    "s3:GetObjectVersionAttributes": _R,
    "s3:GetObjectTagging": _R,
    "s3:GetObjectVersionTagging": _R,
    "s3:GetObjectAcl": _R,
    "s3:GetObjectVersionAcl": _R,
    "s3:GetObjectRetention": _R,
    "s3:GetObjectLegalHold": _R,
    "s3:GetObjectTorrent": _R,
    "s3:GetObjectVersionTorrent": _R,
    # writing objects
    "s3:PutObject": _W,
    "s3:AbortMultipartUpload": _W,
    "s3:PutObjectTagging": _W,
    "s3:PutObjectVersionTagging": _W,
    "s3:RestoreObject": _W,
    # deleting objects
    "s3:DeleteObject": _D,
    "s3:DeleteObjectVersion": _D,
    "s3:DeleteObjectTagging": _D,
    "s3:DeleteObjectVersionTagging": _D,
    # managing the bucket itself: never implied by a role, only by a policy that names it
    "s3:CreateBucket": _M,
    "s3:DeleteBucket": _M,
    "s3:PutObjectAcl": _M,
    "s3:PutObjectVersionAcl": _M,
    "s3:PutObjectRetention": _M,
    "s3:PutObjectLegalHold": _M,
    "s3:BypassGovernanceRetention": _M,
    "s3:GetBucketPolicy": _M,
    "s3:PutBucketPolicy": _M,
    "s3:DeleteBucketPolicy": _M,
    "s3:GetBucketPolicyStatus": _M,
    "s3:GetBucketAcl": _M,
    "s3:PutBucketAcl": _M,
    "s3:GetBucketOwnershipControls": _M,
    "s3:PutBucketOwnershipControls": _M,
    "s3:GetBucketPublicAccessBlock": _M,
    "s3:PutBucketPublicAccessBlock": _M,
    "s3:GetBucketVersioning": _M,
    "s3:PutBucketVersioning": _M,
    "s3:GetBucketTagging": _M,
    "s3:PutBucketTagging": _M,
    "s3:GetBucketCORS": _M,
    "s3:PutBucketCORS": _M,
    "s3:GetBucketWebsite": _M,
    "s3:PutBucketWebsite": _M,
    "s3:DeleteBucketWebsite": _M,
    "s3:GetBucketLogging": _M,
    "s3:PutBucketLogging": _M,
    "s3:GetBucketNotification": _M,
    "s3:PutBucketNotification": _M,
    "s3:GetBucketObjectLockConfiguration": _M,
    "s3:PutBucketObjectLockConfiguration": _M,
    "s3:GetBucketRequestPayment": _M,
    "s3:PutBucketRequestPayment": _M,
    "s3:GetLifecycleConfiguration": _M,
    "s3:PutLifecycleConfiguration": _M,
    "s3:GetEncryptionConfiguration": _M,
    "s3:PutEncryptionConfiguration": _M,
    "s3:GetReplicationConfiguration": _M,
    "s3:PutReplicationConfiguration": _M,
    "s3:GetAccelerateConfiguration": _M,
    "s3:PutAccelerateConfiguration": _M,
    "s3:GetInventoryConfiguration": _M,
    "s3:PutInventoryConfiguration": _M,
    "s3:GetAnalyticsConfiguration": _M,
    "s3:PutAnalyticsConfiguration": _M,
    "s3:GetMetricsConfiguration": _M,
    "s3:PutMetricsConfiguration": _M,
    "s3:GetIntelligentTieringConfiguration": _M,
    "s3:PutIntelligentTieringConfiguration": _M,
}

# lower-case name -> the name as the table spells it, for case-insensitive lookups
CANONICAL: dict[str, str] = {name.lower(): name for name in ACTIONS}


def canonical_action(name: str) -> str | None:
    """The table's spelling of an action name given in any case, or None if S3 has no such action."""
    return CANONICAL.get(name.lower())


def actions_with(accesses: frozenset[Access]) -> frozenset[str]:
    """Every action whose access is one of ``accesses``."""
    return frozenset(name for name, access in ACTIONS.items() if access in accesses)
