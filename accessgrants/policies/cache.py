"""A bounded in-process cache of decisions, for the gateway that asks the same questions all day.

What is cached: the :class:`~accessgrants.policies.engine.Decision` for one question, keyed by the
caller's principal version (anything hashable that changes whenever the principal's policies, grants
or keys change, e.g. ``(key_id, version)``), the action, the resource, and the values of the request
facts the policy set reads, and nothing else (a policy without conditions gives one entry per action
and resource). Decisions that read the clock (``aws:CurrentTime``, ``aws:EpochTime``) are never
cached: each would be asked once. Entries of an old version are never answered again and leave as
the cache fills: at ``max_entries``, the oldest tenth goes first. No secret is ever part of a key or
a value. One cache per process; it is not shared between processes.
"""

from __future__ import annotations

import itertools
from collections.abc import Hashable, Mapping

from accessgrants.policies.engine import Decision, PolicySet
from accessgrants.policies.keys import normalize_context

DEFAULT_MAX_ENTRIES = 100_000


class DecisionCache:
    def __init__(self, max_entries: int = DEFAULT_MAX_ENTRIES) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self.max_entries = max_entries
        self._decisions: dict[Hashable, Decision] = {}
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._decisions)

    def decide(
        self,
        principal_version: Hashable,
        policy_set: PolicySet,
        action: str,
        resource: str,
        context: Mapping[str, object] | None = None,
    ) -> Decision:
        """``policy_set.evaluate(action, resource, context)``, answered from the cache when it can be."""
        read = policy_set.context_keys
        facts: Mapping[str, object] | None = None
        if not read:
            key: Hashable = (principal_version, action, resource)
        elif policy_set.reads_clock:
            self.misses += 1
            return policy_set.evaluate(action, resource, context)
        else:
            facts = normalize_context(context)
            key = (principal_version, action, resource, *map(facts.get, read))
        decision = self._decisions.get(key)
        if decision is not None:
            self.hits += 1
            return decision
        self.misses += 1
        decision = policy_set.evaluate(action, resource, facts)
        if len(self._decisions) >= self.max_entries:
            self._evict_oldest()
        self._decisions[key] = decision
        return decision

    def _evict_oldest(self) -> None:
        """Drop the oldest tenth at once: deleting one entry at a time from the front of a dict makes
        finding the next oldest slower and slower, while rebuilding it now and then stays cheap."""
        keep = self.max_entries - max(1, self.max_entries // 10)
        self._decisions = dict(itertools.islice(self._decisions.items(), len(self._decisions) - keep, None))

    def clear(self) -> None:
        self._decisions.clear()
