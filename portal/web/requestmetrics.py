"""Prometheus counts and latencies of the web process's answers, by view and status.

The view is the URL pattern's name (``api:space-credentials``), never the path: paths carry
organization and space names, which would make a new series for every tenant. A request no pattern
matched is counted under ``unmatched``. The middleware sits first, so the time includes every other
middleware's.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from prometheus_client import Counter, Histogram

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

REQUESTS = Counter("spaceport_http_requests_total", "Requests the web process answered.", ["view", "method", "status"])
LATENCY = Histogram(
    "spaceport_http_request_duration_seconds",
    "Time from the request reaching Django to its answer leaving it.",
    ["view", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)


def view_of(request: HttpRequest) -> str:
    match = request.resolver_match
    if match is None:
        return "unmatched"
    return match.view_name or "unnamed"


class RequestMetricsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        elapsed = time.perf_counter() - started
        view = view_of(request)
        method = request.method if request.method in METHODS else "other"
        REQUESTS.labels(view, method, str(response.status_code)).inc()
        LATENCY.labels(view, method).observe(elapsed)
        return response
