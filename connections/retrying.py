"""When a validation that met a storage it could not reach tries again, in one place.

The task retries on this schedule and the report tells the person the same schedule: which try
this was, when the next one is, and when Spaceport gives up and shows what failed.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

RETRY_DELAYS_SECONDS = (10, 20, 40, 80)
MAX_RETRIES = len(RETRY_DELAYS_SECONDS)


def delay_after(retries_so_far: int) -> int:
    """Seconds to wait before the next try, after ``retries_so_far`` retries."""
    return RETRY_DELAYS_SECONDS[min(max(retries_so_far, 0), MAX_RETRIES - 1)]


def window_seconds() -> int:
    """How long Spaceport keeps trying after the first failure, in all."""
    return sum(RETRY_DELAYS_SECONDS)


def plan(retries_so_far: int, now: datetime) -> dict[str, Any]:
    """What the stored report says about the tries to come, after a try that may just have been unlucky."""
    remaining = sum(RETRY_DELAYS_SECONDS[retries_so_far:])
    return {
        "attempt": retries_so_far + 1,
        "attempts": MAX_RETRIES + 1,
        "next_try_at": (now + timedelta(seconds=delay_after(retries_so_far))).isoformat(),
        "gives_up_at": (now + timedelta(seconds=remaining)).isoformat(),
    }


def describe_seconds(seconds: int) -> str:
    """``150`` as "2 min 30 s": short enough for a sentence on the report."""
    minutes, rest = divmod(max(seconds, 0), 60)
    if not minutes:
        return f"{rest} s"
    return f"{minutes} min {rest} s" if rest else f"{minutes} min"
