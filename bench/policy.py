"""Policy decisions per second: Spaceport's compiled engine against a straightforward evaluator.

Both answer the same questions about the same 50-statement policy set (allows on prefixes of 20
spaces, denies, conditions on ``s3:prefix`` and ``aws:SourceIp``), on one core, interleaved run by
run. The straightforward evaluator is written here the way one would at first: it walks the policy's
JSON for every question, matching actions and resources with ``fnmatch`` and conditions as it meets
them; no compilation, no cache. Spaceport's engine is the gateway's path: a policy set compiled once,
asked through a ``DecisionCache``.

Two workloads: *repeated questions* (1,000 distinct questions asked over and over, so the cache
answers after its first pass, which is left out of the timing), and *distinct resources* (every
question names an object never asked before, so every answer is evaluated, then cached).
Before timing, both evaluators must agree on every question. Writes docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import fnmatch
import functools
import ipaddress
import os
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

from support import ROOT, machine, today, write_section

sys.path.insert(0, str(ROOT))

from accessgrants.policies import DecisionCache, compile_policies, parse_policy, request_facts

ORGANIZATION = "bench"
SPACES = [f"space{number:02d}" for number in range(20)]
ACTIONS = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:ListBucket", "s3:GetObjectTagging"]
CONTEXT = {"aws:SourceIp": "10.1.2.3", "aws:SecureTransport": True, "aws:username": "ada"}
ARN = "arn:aws:s3:::"


def policy() -> dict[str, Any]:
    """Fifty statements: 30 allows on spaces and team prefixes, 10 denies, 10 allows with conditions."""
    statements: list[dict[str, Any]] = []
    for number in range(30):
        space = SPACES[number % 20]
        actions = [
            ["s3:GetObject", "s3:ListBucket"],
            ["s3:Get*", "s3:List*"],
            ["s3:PutObject", "s3:AbortMultipartUpload"],
        ]
        statements.append(
            {
                "Sid": f"Allow{number}",
                "Effect": "Allow",
                "Action": actions[number % 3],
                "Resource": [f"{ARN}bench-{space}", f"{ARN}bench-{space}/team{number % 7}/*"],
            }
        )
    for number in range(10):
        space = SPACES[(number * 3) % 20]
        statements.append(
            {
                "Sid": f"Deny{number}",
                "Effect": "Deny",
                "Action": "s3:Delete*" if number % 2 else "s3:*",
                "Resource": f"{ARN}bench-{space}/team{number % 7}/secret/*",
            }
        )
    for number in range(10):
        space = SPACES[(number * 7) % 20]
        condition: dict[str, Any] = (
            {"StringLike": {"s3:prefix": f"team{number % 7}/*"}}
            if number % 2
            else {"IpAddress": {"aws:SourceIp": ["10.0.0.0/8", "192.168.0.0/16"]}}
        )
        statements.append(
            {
                "Sid": f"Conditional{number}",
                "Effect": "Allow",
                "Action": ["s3:ListBucket", "s3:GetObject*"],
                "Resource": [f"{ARN}bench-{space}", f"{ARN}bench-{space}/shared/*/data-?.csv"],
                "Condition": condition,
            }
        )
    return {"Version": "2012-10-17", "Statement": statements}


# --- the straightforward evaluator -------------------------------------------------------------


def _listed(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value


def _condition_holds(condition: dict[str, Any], context: dict[str, Any]) -> bool:
    lowered = {key.lower(): value for key, value in context.items()}
    for operator, tests in condition.items():
        for key, expected in tests.items():
            actual = lowered.get(key.lower())
            if actual is None:
                return False
            if operator == "StringLike":
                if not any(fnmatch.fnmatchcase(str(actual), pattern) for pattern in _listed(expected)):
                    return False
            elif operator == "IpAddress":
                address = ipaddress.ip_address(actual)
                if not any(address in ipaddress.ip_network(block) for block in _listed(expected)):
                    return False
            else:
                raise ValueError(f"the straightforward evaluator has no {operator}")
    return True


def straightforward(document: dict[str, Any], action: str, resource: str, context: dict[str, Any]) -> bool:
    """Walk every statement; an explicit deny wins, then an allow, otherwise deny."""
    allowed = False
    for statement in document["Statement"]:
        if not any(fnmatch.fnmatchcase(action.lower(), pattern.lower()) for pattern in _listed(statement["Action"])):
            continue
        if not any(fnmatch.fnmatchcase(resource, pattern) for pattern in _listed(statement["Resource"])):
            continue
        if "Condition" in statement and not _condition_holds(statement["Condition"], context):
            continue
        if statement["Effect"] == "Deny":
            return False
        allowed = True
    return allowed


# --- workloads ---------------------------------------------------------------------------------

Question = tuple[str, str, dict[str, Any]]


def question(number: int) -> Question:
    """A varied question: object or bucket, inside and outside allowed prefixes, some secret, some listings."""
    space = SPACES[number % 20]
    action = ACTIONS[number % len(ACTIONS)]
    context = request_facts(CONTEXT, **{"s3:prefix": f"team{number % 7}/"})
    if action == "s3:ListBucket":
        return action, f"{ARN}bench-{space}", context
    kind = number % 4
    if kind == 0:
        key = f"team{number % 7}/secret/file{number}.csv"
    elif kind == 1:
        key = f"shared/x{number}/data-{number % 10}.csv"
    else:
        key = f"team{(number // 3) % 7}/2026/file{number}.parquet"
    return action, f"{ARN}bench-{space}/{key}", context


def timed(questions: list[Question], ask: Callable[[str, str, dict[str, Any]], object]) -> tuple[float, float]:
    """Decisions per CPU second and per wall-clock second over ``questions``, the same loop for both
    evaluators. CPU time counts only this process, so it holds up when others share the core."""
    wall, cpu = time.perf_counter(), time.process_time()
    for action, resource, context in questions:
        ask(action, resource, context)
    return len(questions) / (time.process_time() - cpu), len(questions) / (time.perf_counter() - wall)


def summary(rates: list[float]) -> tuple[float, float, float]:
    return statistics.median(rates), min(rates), max(rates)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--engine-questions", type=int, default=200_000)
    parser.add_argument("--straightforward-questions", type=int, default=5_000)
    parser.add_argument("--cpu", type=int, default=None, help="the core to run on (default: the last one)")
    parser.add_argument("--no-write", action="store_true", help="print the figures without writing docs/benchmarks.md")
    args = parser.parse_args()

    cpu = args.cpu if args.cpu is not None else max(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpu})

    raw = policy()
    policy_set = compile_policies([parse_policy(raw, organization=ORGANIZATION, name="bench")])
    repeated = [question(number) for number in range(1000)]
    distinct_count = max(args.engine_questions, args.straightforward_questions)
    disagreements = sum(
        policy_set.evaluate(*q).allowed != straightforward(raw, *q)
        for q in [*repeated, *(question(n) for n in range(1000, 21_000))]
    )
    if disagreements:
        raise SystemExit(f"the evaluators disagree on {disagreements} questions")
    allowed_share = sum(policy_set.evaluate(*q).allowed for q in repeated) / len(repeated)

    rates: dict[str, list[tuple[float, float]]] = {name: [] for name in ("eng-rep", "str-rep", "eng-dis", "str-dis")}
    offset = 0
    for run in range(args.runs):
        principal = ("bench", run)
        cache = DecisionCache()
        for q in repeated:
            cache.decide(principal, policy_set, *q)
        engine_repeated = repeated * (args.engine_questions // len(repeated))
        plain_repeated = repeated * max(1, args.straightforward_questions // len(repeated))
        rates["eng-rep"].append(timed(engine_repeated, functools.partial(cache.decide, principal, policy_set)))
        rates["str-rep"].append(timed(plain_repeated, functools.partial(straightforward, raw)))
        fresh = [question(offset + n + 1000) for n in range(distinct_count)]
        offset += distinct_count
        cache = DecisionCache()
        rates["eng-dis"].append(
            timed(fresh[: args.engine_questions], functools.partial(cache.decide, principal, policy_set))
        )
        rates["str-dis"].append(timed(fresh[: args.straightforward_questions], functools.partial(straightforward, raw)))
        figures = ", ".join(
            f"{name} {values[-1][0]:,.0f}/cpu-s {values[-1][1]:,.0f}/s" for name, values in rates.items()
        )
        print(f"run {run + 1}: {figures}", flush=True)

    rows = []
    for label, engine, plain, goal in (
        ("repeated questions", "eng-rep", "str-rep", 200_000),
        ("distinct resources", "eng-dis", "str-dis", 20_000),
    ):
        for clock, position in (("CPU time", 0), ("wall clock", 1)):
            e_med, e_min, e_max = summary([rate[position] for rate in rates[engine]])
            s_med, s_min, s_max = summary([rate[position] for rate in rates[plain]])
            rows.append(
                f"| {label} | {clock} | {e_med:,.0f} | {e_min:,.0f} to {e_max:,.0f} | {s_med:,.0f} "
                f"| {s_min:,.0f} to {s_max:,.0f} | {e_med / s_med:.0f} | {goal:,} | {e_med / goal:.2f} |"
            )
    load = os.getloadavg()[0]
    body = f"""
Measured {today()} on {machine()}; `make bench-policy`, pinned to core {cpu}
(`os.sched_setaffinity`), {args.runs} runs, the two evaluators interleaved in each run. This machine
was shared with other work while it ran (load average {load:.1f} on {os.cpu_count()} cores at the end),
so the figures are noisy: the spread between min and max shows how much. Each rate is given per
second of this process's CPU time (what one core can do, little affected by others sharing it) and
per second of wall-clock time (what this run got while sharing the core).

One policy of 50 statements (30 allows on spaces and team prefixes, 10 denies on secret prefixes, 10
allows with a `StringLike` on `s3:prefix` or an `IpAddress` on `aws:SourceIp`), questions over 20
spaces and five actions ({allowed_share:.0%} of them allowed). Spaceport: the policy compiled once
and asked through a `DecisionCache` (the gateway's path). Straightforward: the policy's JSON walked
for every question with `fnmatch`, no compilation, no cache (in `bench/policy.py`). Both gave the same
answer to each of 21,000 questions before timing.
*Repeated questions*: 1,000 questions asked over and over (the cache's first pass is not timed).
*Distinct resources*: every question names an object not asked before, so each is evaluated and cached.
Each question's request context is built beforehand with `request_facts`, as the gateway builds it
once per request; both evaluators get the same one.

| workload | per second of | Spaceport, median | range | straightforward, median | range | ratio | goal | vs goal |
|---|---|---:|---:|---:|---:|---:|---:|---:|
{chr(10).join(rows)}
"""
    print(body)
    if not args.no_write:
        write_section(ROOT / "docs" / "benchmarks.md", "Policy decisions", body)


if __name__ == "__main__":
    main()
