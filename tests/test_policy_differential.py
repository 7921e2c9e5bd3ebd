"""The compiled engine against an independent evaluator, on many random policies and questions.

``tests/policy_eval.py`` is a small evaluator written separately from the engine (for the session
policies no emulator enforces), directly from AWS's documented semantics, matching each pattern as a
regular expression per question. Random policies within what it understands (Allow and Deny, action
and resource wildcards, ``StringLike`` and ``StringEquals`` on ``s3:prefix``) must get the same
answer from both, question by question, with the cache in front of the engine as the gateway uses it.
"""

from __future__ import annotations

import random
from typing import Any

from accessgrants.policies import DecisionCache, compile_policies, parse_policy
from tests import policy_eval

ACTION_PATTERNS = ["s3:GetObject", "s3:Get*", "s3:*", "s3:PutObject", "s3:List*", "s3:?etObject*", "s3:Delete*", "*"]
QUESTION_ACTIONS = ["s3:GetObject", "s3:GetObjectTagging", "s3:PutObject", "s3:ListBucket", "s3:DeleteObject"]
BUCKETS = ["acme-raw", "acme-rye", "acme-cold"]
RESOURCE_PATTERNS = [
    "arn:aws:s3:::acme-raw",
    "arn:aws:s3:::acme-raw/*",
    "arn:aws:s3:::acme-r*",
    "arn:aws:s3:::acme-r?w/*",
    "arn:aws:s3:::acme-*/in/*",
    "arn:aws:s3:::acme-cold/a?/*",
    "arn:aws:s3:::acme-raw/in/x.csv",
    "arn:aws:s3:::acme-cold/*/x.*",
]
KEYS = ["in/x.csv", "out/y", "ab/c", "a/b/x.txt", "in/", "secret/z"]
PREFIX_PATTERNS = ["in/", "in/*", "a?/*", "*", "out*"]


def random_statement(rng: random.Random) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "Effect": rng.choice(["Allow", "Allow", "Deny"]),
        "Action": rng.sample(ACTION_PATTERNS, rng.randint(1, 2)),
        "Resource": rng.sample(RESOURCE_PATTERNS, rng.randint(1, 3)),
    }
    if rng.random() < 0.3:
        operator = rng.choice(["StringLike", "StringEquals"])
        statement["Condition"] = {operator: {"s3:prefix": rng.sample(PREFIX_PATTERNS, rng.randint(1, 2))}}
    return statement


def random_question(rng: random.Random) -> tuple[str, str, dict[str, str]]:
    action = rng.choice(QUESTION_ACTIONS)
    bucket = rng.choice(BUCKETS)
    resource = f"arn:aws:s3:::{bucket}" if action == "s3:ListBucket" else f"arn:aws:s3:::{bucket}/{rng.choice(KEYS)}"
    context = {"s3:prefix": rng.choice(KEYS)} if rng.random() < 0.7 else {}
    return action, resource, context


def test_engine_agrees_with_an_independent_evaluator() -> None:
    rng = random.Random(13)  # noqa: S311 - reproducible test data, not a secret
    cache = DecisionCache(max_entries=500)
    compared = allowed = 0
    for number in range(300):
        policy = {"Version": "2012-10-17", "Statement": [random_statement(rng) for _ in range(rng.randint(1, 6))]}
        policies = compile_policies([parse_policy(policy, organization="acme")])
        for _ in range(40):
            action, resource, context = random_question(rng)
            expected = policy_eval.allowed(policy, action, resource, context)
            assert cache.decide(number, policies, action, resource, context).allowed is expected, (
                policy,
                action,
                resource,
                context,
            )
            compared += 1
            allowed += expected
    assert compared == 12_000
    assert 0.1 < allowed / compared < 0.9, "the random policies should allow some questions and refuse others"
