"""Which space a bucket name stands for, and which buckets a key may list.

Bucket names come from :func:`accessgrants.policies.buckets.bucket_name`; a long name is shortened
with a digest, so a name is resolved by looking it up among the names of the organization's spaces,
never by splitting it on ``-`` (organization and space names may contain ``-`` themselves).
"""

from __future__ import annotations

from accessgrants.decisions import bucket_name, decide_for_key, key_principal
from portal.tenancy.models import Space


def space_of(access_key_id: str, bucket: str) -> Space | None:
    """The space of the key's organization shown as ``bucket``; ``None`` for any other bucket.

    A bucket of another organization answers the same as one that does not exist, so a key learns
    nothing about other organizations' spaces.
    """
    principal = key_principal(access_key_id)
    if principal is None:
        return None
    for space in Space.objects.filter(organization_id=principal.organization_id).select_related("organization"):
        if bucket_name(space.organization.name, space.name) == bucket:
            return space
    return None


def listable_buckets(access_key_id: str) -> list[tuple[str, Space]]:
    """The buckets of the key's organization its owner may list, by name.

    ListBuckets is ``s3:ListAllMyBuckets``, whose resource in AWS is ``*``; a key's decisions are
    confined to its organization's buckets, so it is asked per bucket: a bucket is listed when
    its owner may ``s3:ListBucket`` it and no policy explicitly denies ``s3:ListAllMyBuckets`` on it.
    """
    principal = key_principal(access_key_id)
    if principal is None:
        return []
    found = []
    for space in Space.objects.filter(organization_id=principal.organization_id).select_related("organization"):
        name = bucket_name(space.organization.name, space.name)
        if not decide_for_key(access_key_id, "s3:ListBucket", name).allowed:
            continue
        if str(getattr(decide_for_key(access_key_id, "s3:ListAllMyBuckets", name), "outcome", "")) == "explicit deny":
            continue
        found.append((name, space))
    return sorted(found, key=lambda pair: pair[0])
