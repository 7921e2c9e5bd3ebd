"""The gateway's Prometheus metrics, read from each request's :class:`~gateway.facts.RequestFacts`.

With several processes (``rungateway --processes N``) the parent makes a directory for
prometheus-client's multiprocess mode (``PROMETHEUS_MULTIPROC_DIR``) before it starts them: each
process writes its samples there and the parent's metrics port adds them up, so one scrape sees the
whole host. Only counters and histograms are used, which add up across processes as they are.
"""

from __future__ import annotations

import os
import threading

from prometheus_client import REGISTRY as PROCESS_REGISTRY
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from accessgrants.decisions import cache_counts
from gateway.facts import RequestFacts

__all__ = ["CONTENT_TYPE_LATEST", "observe", "scrape"]

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)

REQUESTS = Counter("spaceport_gateway_requests", "S3 requests answered.", ["operation", "status"])
LATENCY = Histogram(
    "spaceport_gateway_request_duration_seconds",
    "Time from a request's arrival to the end of its answer.",
    ["operation"],
    buckets=LATENCY_BUCKETS,
)
BYTES_IN = Counter("spaceport_gateway_received_bytes", "Request body bytes received from clients.", ["operation"])
BYTES_OUT = Counter("spaceport_gateway_sent_bytes", "Object bytes sent to clients.", ["operation"])
BACKEND_ERRORS = Counter(
    "spaceport_gateway_backend_errors",
    "Requests the store failed: unreachable, refused, stalled or answered a server error.",
    ["operation", "code"],
)
DECISIONS = Counter(
    "spaceport_gateway_decision_cache", "Authorization decisions, answered from the cache or evaluated.", ["result"]
)


class _DecisionCounts:
    """Moves the decision cache's running totals into the counter, by difference."""

    def __init__(self) -> None:
        self.seen = (0, 0)
        self.lock = threading.Lock()

    def catch_up(self) -> None:
        with self.lock:
            hits, misses = cache_counts()
            if hits > self.seen[0]:
                DECISIONS.labels("hit").inc(hits - self.seen[0])
            if misses > self.seen[1]:
                DECISIONS.labels("miss").inc(misses - self.seen[1])
            self.seen = (hits, misses)


decision_counts = _DecisionCounts()


def observe(facts: RequestFacts, seconds: float, backend_failed: bool) -> None:
    operation = facts.operation or "Unknown"
    REQUESTS.labels(operation, str(facts.status)).inc()
    LATENCY.labels(operation).observe(seconds)
    if facts.bytes_in:
        BYTES_IN.labels(operation).inc(facts.bytes_in)
    if facts.bytes_out:
        BYTES_OUT.labels(operation).inc(facts.bytes_out)
    if backend_failed:
        BACKEND_ERRORS.labels(operation, facts.error_code or "Aborted").inc()
    decision_counts.catch_up()


def scrape() -> bytes:
    """The exposition text: this process's metrics, or every process's in multiprocess mode."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not directory:
        return generate_latest(PROCESS_REGISTRY)
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=directory)
    return generate_latest(registry)
