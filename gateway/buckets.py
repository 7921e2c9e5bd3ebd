"""Which space a bucket name stands for, and which buckets a key may list.

Bucket names come from :func:`accessgrants.policies.buckets.bucket_name`; a long name is shortened
with a digest, so a name is resolved by looking it up among the names of the organization's spaces,
never by splitting it on ``-`` (organization and space names may contain ``-`` themselves).

Each organization's buckets are read once per access snapshot version and kept in this process, so
a warm request costs no query; the version starts anew whenever a space or an organization changes
(:mod:`portal.core.snapshots`), so a renamed, added or deleted space is never answered from memory
past that version.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from accessgrants.decisions import bucket_name, decide_for_key, shared_key_principal
from portal.core import snapshots
from portal.core.cache import ProcessMemory
from portal.tenancy.models import Space

# By (access snapshot version, organization id): the organization's spaces by bucket name. The spaces
# are shared by every request at the version, so readers never change them.
_buckets: ProcessMemory[tuple[str, int], Mapping[str, Space]] = ProcessMemory("gateway buckets", entries=1024)


def buckets_of(organization_id: int) -> Mapping[str, Space]:
    """The organization's spaces by bucket name, as of the current access snapshot version."""
    at = (snapshots.version(), organization_id)
    found = _buckets.get(at)
    if found is None:
        spaces = Space.objects.filter(organization_id=organization_id).select_related("organization")
        found = MappingProxyType({bucket_name(space.organization.name, space.name): space for space in spaces})
        _buckets.put(at, found)
    return found


def space_of(access_key_id: str, bucket: str) -> Space | None:
    """The space of the key's organization shown as ``bucket``; ``None`` for any other bucket.

    A bucket of another organization answers the same as one that does not exist, so a key learns
    nothing about other organizations' spaces.
    """
    principal = shared_key_principal(access_key_id)
    if principal is None:
        return None
    return buckets_of(principal.organization_id).get(bucket)


def listable_buckets(access_key_id: str) -> list[tuple[str, Space]]:
    """The buckets of the key's organization its owner may list, by name.

    ListBuckets is ``s3:ListAllMyBuckets``, whose resource in AWS is ``*``; a key's decisions are
    confined to its organization's buckets, so it is asked per bucket: a bucket is listed when
    its owner may ``s3:ListBucket`` it and no policy explicitly denies ``s3:ListAllMyBuckets`` on it.
    """
    principal = shared_key_principal(access_key_id)
    if principal is None:
        return []
    found = []
    for name, space in buckets_of(principal.organization_id).items():
        if not decide_for_key(access_key_id, "s3:ListBucket", name).allowed:
            continue
        if str(getattr(decide_for_key(access_key_id, "s3:ListAllMyBuckets", name), "outcome", "")) == "explicit deny":
            continue
        found.append((name, space))
    return sorted(found, key=lambda pair: pair[0])
