"""Space roles as implied policies, so one evaluation answers for roles and policies together.

A space role grants what AccessManager's rules say it grants (see :mod:`portal.tenancy.rules`): ``user``
lists and reads, ``supplier`` also writes, ``trustee`` also deletes, on the space's bucket and every
object in it. Whether a grant counts at all (the space's and organization's state, organization
trustees, the loadingzone rule) stays with the rules; the caller passes the space roles that count.
"""

from __future__ import annotations

from collections.abc import Iterable

from accessgrants.policies.actions import Access, actions_with
from accessgrants.policies.buckets import bucket_name
from accessgrants.policies.document import Effect, PolicyDocument, Statement
from portal.tenancy.grants import Role

ROLE_POLICY_NAME = "space roles"

ROLE_ACCESS: dict[str, frozenset[Access]] = {
    Role.USER: frozenset({Access.LIST, Access.READ}),
    Role.SUPPLIER: frozenset({Access.LIST, Access.READ, Access.WRITE}),
    Role.TRUSTEE: frozenset({Access.LIST, Access.READ, Access.WRITE, Access.DELETE}),
}


def role_statement(index: int, organization: str, space: str, role: str) -> Statement:
    """The Allow statement one space role implies."""
    bucket = bucket_name(organization, space)
    return Statement(
        index=index,
        sid=f"{role}-{space}",
        effect=Effect.ALLOW,
        actions=tuple(sorted(actions_with(ROLE_ACCESS[role]))),
        not_action=False,
        resources=(bucket, f"{bucket}/*"),
        not_resource=False,
    )


def implied_policy(organization: str, space_roles: Iterable[tuple[str, str]]) -> PolicyDocument:
    """The policy that the ``(space, role)`` pairs of one organization imply; other roles imply nothing."""
    statements: list[Statement] = []
    for space, role in sorted(set(space_roles)):
        if role in ROLE_ACCESS:
            statements.append(role_statement(len(statements) + 1, organization, space, role))
    return PolicyDocument(name=ROLE_POLICY_NAME, organization=organization, statements=tuple(statements))
