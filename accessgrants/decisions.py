"""The accessgrants app's front door for S3 decisions: may this user do this action on this resource?

The S3 gateway asks :func:`decide` on every request. A user's policies (attached to them or their
groups) and the policies their space roles imply are compiled once per principal version and kept
in a bounded per-process cache; decisions are cached per (principal version, action, resource,
facts read) by :class:`~accessgrants.policies.DecisionCache`.

The principal version is the user's id with the access snapshot version of
:mod:`portal.core.snapshots`, which starts anew (in every process, at once) whenever a policy, an
attachment, a grant, a group membership, an ownership, an organization or a space changes
(:func:`accessgrants.apps.watch_access_changes`). That over-invalidates (a change anywhere starts
over for everyone) but can never answer from a stale version, and it costs one cache read per
request.

:func:`decide_for_key` is the same question asked with an S3 access key: the key's owner decides,
within the key's organization only, and a key that is inactive, expired or past its rotation grace
is refused with that reason. The key is read from a snapshot (:mod:`accessgrants.keyprincipals`),
so a warm request costs no SQL either.

The gateway also asks here which organization a key serves (:func:`shared_key_principal`) and how a space
is named as a bucket (:func:`bucket_name`), records its keys' use in bulk (:func:`record_use`) and
reads the decision cache's hit and miss counts for its metrics (:func:`cache_counts`), so it never
reaches past this front door.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils import timezone

from accessgrants.accesskeys import record_use
from accessgrants.identitypolicies import checked_policy, policies_of
from accessgrants.keyprincipals import key_principal, shared_key_principal
from accessgrants.policies import (
    Decision,
    DecisionCache,
    Outcome,
    PolicyDocument,
    PolicyError,
    PolicySet,
    compile_policies,
)
from accessgrants.policies import request_facts as facts_of
from accessgrants.policies.actions import ACTIONS, Access
from accessgrants.policies.buckets import bucket_name, bucket_prefix, resource_path
from accessgrants.policies.roles import implied_policy
from portal.core import snapshots
from portal.tenancy.grants import Role
from portal.tenancy.models import Organization, Space
from portal.tenancy.rules import AccessContext

__all__ = [
    "Decision",
    "abilities",
    "bucket_name",
    "cache_counts",
    "decide",
    "decide_for_key",
    "key_principal",
    "record_use",
    "shared_key_principal",
]

logger = logging.getLogger(__name__)

MAX_COMPILED = 1024

PrincipalVersion = tuple[int, str]

# The organization roles a principal tag names, the strongest first; ownership outranks them all.
TAGGED_ROLES = (Role.ADMIN, Role.TRUSTEE, Role.ACCESS)


@dataclass(frozen=True)
class Refusal(Decision):
    """A denial no statement made: the key or its owner may do nothing, for the reason given."""

    why: str = ""

    @property
    def reason(self) -> str:
        return self.why


def refused(why: str) -> Refusal:
    return Refusal(False, Outcome.IMPLICIT_DENY, (), why)


class _CompiledSets:
    """The compiled policy set of each recent principal version, the oldest dropped first."""

    def __init__(self, max_entries: int = MAX_COMPILED) -> None:
        self.max_entries = max_entries
        self._sets: OrderedDict[PrincipalVersion, PolicySet] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: PrincipalVersion) -> PolicySet | None:
        with self._lock:
            found = self._sets.get(key)
            if found is not None:
                self._sets.move_to_end(key)
            return found

    def put(self, key: PrincipalVersion, policy_set: PolicySet) -> None:
        with self._lock:
            self._sets[key] = policy_set
            while len(self._sets) > self.max_entries:
                self._sets.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._sets.clear()


compiled_sets = _CompiledSets()
decision_cache = DecisionCache()


def cache_counts() -> tuple[int, int]:
    """How many decisions this process answered from its cache, and how many it had to evaluate."""
    return decision_cache.hits, decision_cache.misses


def principal_version(user: Any) -> PrincipalVersion:
    """Changes whenever anything that decides this user's access may have changed."""
    return (int(user.pk), snapshots.version())


def space_roles(user: Any) -> dict[str, list[tuple[str, str]]]:
    """The space roles that count for a user, by organization: what the rules let them delete
    (trustee), write (supplier) or read (user) in each space, so organization trustees, the
    loadingzone and public spaces are implied as the rules have them."""
    access = AccessContext.for_user(user)
    spaces = Space.objects.select_related("organization")
    deletable = set(access.deletable_spaces(spaces).values_list("organization__name", "name"))
    writable = set(access.writable_spaces(spaces).values_list("organization__name", "name"))
    readable = set(access.readable_spaces(spaces).values_list("organization__name", "name"))
    roles: dict[str, list[tuple[str, str]]] = {}
    for organization, space in readable | writable | deletable:
        key = (organization, space)
        role = Role.TRUSTEE if key in deletable else Role.SUPPLIER if key in writable else Role.USER
        roles.setdefault(organization, []).append((space, str(role)))
    return roles


def documents_of(user: Any) -> list[PolicyDocument]:
    """Every policy that applies to the user, stored and implied."""
    documents: list[PolicyDocument] = []
    for policy in policies_of(user):
        try:
            documents.append(checked_policy(policy))
        except PolicyError as error:
            logger.warning("identity policy %s no longer parses and is left out: %s", policy, error)
    for organization, roles in sorted(space_roles(user).items()):
        documents.append(implied_policy(organization, roles))
    return documents


def policy_set_of(user: Any, version: PrincipalVersion | None = None) -> PolicySet:
    key = version or principal_version(user)
    found = compiled_sets.get(key)
    if found is None:
        found = compile_policies(documents_of(user))
        compiled_sets.put(key, found)
    return found


def organization_role(user: Any, organization: Organization) -> str | None:
    """The user's strongest standing in the organization: ``owner``, ``admin``, ``trustee``,
    ``access``, or ``None`` without one. Read from the grants snapshot, so no SQL when warm."""
    access = AccessContext.for_user(user)
    if access.is_owner(organization):
        return "owner"
    roles = access.organization_roles(organization)
    return next((str(role) for role in TAGGED_ROLES if role in roles), None)


def principal_tags(user: Any, organization: Organization | None) -> dict[str, object]:
    """``aws:PrincipalTag/organization`` and ``aws:PrincipalTag/role`` for the organization a request
    is asked in (the access key's); none when the question names no organization."""
    if organization is None:
        return {}
    return {
        "aws:PrincipalTag/organization": organization.name,
        "aws:PrincipalTag/role": organization_role(user, organization),
    }


def username(user: Any) -> str:
    """``aws:username``: the e-mail address, as Spaceport names people everywhere; the login name
    for an account without one."""
    return str(user.email or user.get_username())


def request_facts(
    user: Any,
    *,
    source_ip: str | None = None,
    when: datetime | None = None,
    secure: bool = True,
    context: dict[str, object] | None = None,
    organization: Organization | None = None,
) -> dict[str, object]:
    """The request context policies may read: who asks, from where, when, and over what."""
    return facts_of(
        context,
        **{
            **principal_tags(user, organization),
            "aws:username": username(user),
            "aws:userid": str(user.pk),
            "aws:sourceip": source_ip,
            "aws:currenttime": when or timezone.now(),
            "aws:securetransport": secure,
        },
    )


def decide(
    user: Any,
    action: str,
    resource: str,
    *,
    source_ip: str | None = None,
    when: datetime | None = None,
    secure: bool = True,
    context: dict[str, object] | None = None,
    organization: Organization | None = None,
) -> Decision:
    """May ``user`` do ``action`` (``s3:GetObject``) on ``resource`` (``acme-raw/in/a.csv`` or its ARN)?

    ``context`` adds request facts such as ``s3:prefix``; ``organization``, the one the request is
    asked in, gives the principal tags; an inactive user is never allowed anything.
    """
    version = principal_version(user)
    policy_set = policy_set_of(user, version)
    # Facts no statement reads cannot change the answer; working them out costs a snapshot read.
    facts = (
        request_facts(user, source_ip=source_ip, when=when, secure=secure, context=context, organization=organization)
        if policy_set.context_keys
        else None
    )
    decision = decision_cache.decide(version, policy_set, action, resource, facts)
    if not user.is_active and decision.allowed:
        return Decision(False, Outcome.IMPLICIT_DENY, ())
    return decision


def decide_for_key(
    access_key_id: str,
    action: str,
    resource: str,
    *,
    source_ip: str | None = None,
    when: datetime | None = None,
    secure: bool = True,
    context: dict[str, object] | None = None,
) -> Decision:
    """May the holder of the access key ``access_key_id`` do ``action`` on ``resource``?

    The key's owner decides, as :func:`decide` answers for them, but only on the buckets of the
    key's organization, and only while the key is active, unexpired and within any rotation grace.
    """
    principal = shared_key_principal(access_key_id)
    if principal is None:
        return refused("no such access key")
    moment = when or timezone.now()
    why = principal.refusal(moment)
    if why is not None:
        return refused(why)
    if not resource_path(resource).startswith(bucket_prefix(principal.organization)):
        return refused(f"the key is for the buckets of {principal.organization} only")
    organization = principal.organization_instance
    return decide(
        principal.owner,
        action,
        resource,
        source_ip=source_ip,
        when=moment,
        secure=secure,
        context=context,
        organization=organization,
    )


def object_level(action: str) -> bool:
    """Whether an action is about an object (asked on ``bucket/key``) rather than the bucket."""
    return (
        ACTIONS[action] in (Access.READ, Access.WRITE, Access.DELETE)
        or "Object" in action
        or action in ("s3:ListMultipartUploadParts",)
    )


def abilities(
    user: Any,
    space: Space,
    *,
    key: str = "*",
    source_ip: str | None = None,
    when: datetime | None = None,
    secure: bool = True,
    actions: Iterable[str] | None = None,
    access_key_id: str | None = None,
) -> list[tuple[str, str, Decision]]:
    """What a user (or, with ``access_key_id``, the holder of that key) may do in a space: each
    action, the resource it was asked on, and the decision. Object actions are asked on
    ``<bucket>/<key>``; with the default key any statement that covers every object of the space
    applies."""
    bucket = bucket_name(space.organization.name, space.name)
    rows = []
    for action in actions or sorted(ACTIONS):
        resource = f"{bucket}/{key}" if object_level(action) else bucket
        circumstances: dict[str, Any] = {"source_ip": source_ip, "when": when, "secure": secure}
        if access_key_id is not None:
            decision = decide_for_key(access_key_id, action, resource, **circumstances)
        else:
            decision = decide(user, action, resource, organization=space.organization, **circumstances)
        rows.append((action, resource, decision))
    return rows
