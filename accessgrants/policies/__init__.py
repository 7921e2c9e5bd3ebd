"""Identity policies: IAM JSON policies checked on save, compiled once, evaluated per request.

The front door for the rest of Spaceport: :func:`parse_policy` checks a policy and raises
:class:`PolicyError` naming the statement and field; :func:`compile_policies` turns a principal's
policies (with :func:`implied_policy` for their space roles) into a :class:`PolicySet` whose
``evaluate`` answers with a :class:`Decision`; :class:`DecisionCache` remembers answers per principal
version; :func:`request_facts` builds a request's context once for all its questions;
:func:`bucket_name` is how a space appears as a bucket. Nothing here touches the database
except the role names of :mod:`accessgrants.policies.roles`.
"""

from __future__ import annotations

from accessgrants.policies.buckets import bucket_name, bucket_prefix, is_valid_bucket_name
from accessgrants.policies.cache import DecisionCache
from accessgrants.policies.compile import compile_policies
from accessgrants.policies.document import PolicyDocument, PolicyError, Statement, parse_policy
from accessgrants.policies.engine import Decision, Outcome, PolicySet, StatementRef
from accessgrants.policies.keys import RequestFacts, request_facts

__all__ = [
    "Decision",
    "DecisionCache",
    "Outcome",
    "PolicyDocument",
    "PolicyError",
    "PolicySet",
    "RequestFacts",
    "Statement",
    "StatementRef",
    "bucket_name",
    "bucket_prefix",
    "compile_policies",
    "is_valid_bucket_name",
    "parse_policy",
    "request_facts",
]
