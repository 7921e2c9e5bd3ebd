"""The decision cache: same answers as the engine, per principal version, bounded, context-aware."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from accessgrants.policies import DecisionCache, compile_policies, parse_policy
from accessgrants.policies.roles import implied_policy
from portal.tenancy.grants import Role


def policy_set(*statements: dict[str, object]):  # type: ignore[no-untyped-def]
    return compile_policies(
        [parse_policy({"Version": "2012-10-17", "Statement": list(statements)}, organization="acme")]
    )


READ_RAW = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "acme-raw/*"}


def test_repeated_questions_are_answered_from_the_cache() -> None:
    cache = DecisionCache()
    policies = policy_set(READ_RAW)
    first = cache.decide(("ada", 1), policies, "s3:GetObject", "acme-raw/a")
    second = cache.decide(("ada", 1), policies, "s3:GetObject", "acme-raw/a")
    assert first is second
    assert first == policies.evaluate("s3:GetObject", "acme-raw/a")
    assert (cache.hits, cache.misses, len(cache)) == (1, 1, 1)


def test_a_new_principal_version_is_asked_afresh() -> None:
    """The caller bumps the version when a policy, grant or key changes; the old answer is not reused."""
    cache = DecisionCache()
    before = cache.decide(("ada", 1), policy_set(READ_RAW), "s3:GetObject", "acme-raw/a")
    denied = policy_set(READ_RAW, {"Effect": "Deny", "Action": "s3:*", "Resource": "acme-raw/*"})
    after = cache.decide(("ada", 2), denied, "s3:GetObject", "acme-raw/a")
    assert before.allowed and not after.allowed
    assert cache.decide(
        ("bob", 1), compile_policies([implied_policy("acme", [("raw", Role.USER)])]), "s3:GetObject", "acme-raw/a"
    ).allowed


def test_the_cache_is_bounded_and_drops_the_oldest() -> None:
    cache = DecisionCache(max_entries=20)
    policies = policy_set(READ_RAW)
    for number in range(100):
        cache.decide("ada", policies, "s3:GetObject", f"acme-raw/{number}")
        assert len(cache) <= 20
    cache.decide("ada", policies, "s3:GetObject", "acme-raw/99")
    assert cache.hits == 1
    cache.decide("ada", policies, "s3:GetObject", "acme-raw/0")
    assert cache.hits == 1


def test_the_context_a_policy_reads_is_part_of_the_key() -> None:
    cache = DecisionCache()
    policies = policy_set(
        {
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": "acme-raw",
            "Condition": {"StringLike": {"s3:prefix": "home/*"}},
        }
    )
    assert cache.decide("ada", policies, "s3:ListBucket", "acme-raw", {"s3:prefix": "home/a"}).allowed
    assert not cache.decide("ada", policies, "s3:ListBucket", "acme-raw", {"s3:prefix": "etc/"}).allowed
    assert not cache.decide("ada", policies, "s3:ListBucket", "acme-raw", {}).allowed
    assert cache.decide(
        "ada", policies, "s3:ListBucket", "acme-raw", {"S3:Prefix": "home/a", "aws:SourceIp": "10.0.0.1"}
    ).allowed
    assert (cache.hits, len(cache)) == (1, 3)


def test_decisions_that_read_the_clock_are_not_cached() -> None:
    cache = DecisionCache()
    policies = policy_set({**READ_RAW, "Condition": {"DateLessThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"}}})
    early = {"aws:CurrentTime": datetime(2029, 1, 1, tzinfo=UTC)}
    late = {"aws:CurrentTime": datetime(2031, 1, 1, tzinfo=UTC)}
    assert cache.decide("ada", policies, "s3:GetObject", "acme-raw/a", early).allowed
    assert not cache.decide("ada", policies, "s3:GetObject", "acme-raw/a", late).allowed
    assert len(cache) == 0


def test_a_cache_holds_at_least_one_entry() -> None:
    with pytest.raises(ValueError, match="max_entries"):
        DecisionCache(max_entries=0)
