"""The credential requests vending answered, by provider and outcome, for Prometheus.

``issued`` is a credential newly minted by the provider's vendor, ``cached`` one reused from the
cache, ``refused`` a request turned down (no access, no active connection, a lifetime too long,
throttled). A refusal decided before the space's connection is known has the provider ``none``.
"""

from __future__ import annotations

from prometheus_client import Counter

VENDS = Counter("spaceport_vends_total", "Credential requests answered by vending.", ["provider", "outcome"])


def counted(outcome: str, provider: str = "none") -> None:
    VENDS.labels(provider or "none", outcome).inc()
