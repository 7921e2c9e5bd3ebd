"""``/metrics``: Prometheus's view of the web process, its vending, the commits and Celery.

Off unless the operator configures who may read it: a bearer token (``SPACEPORT_METRICS_TOKEN``),
networks (``SPACEPORT_METRICS_NETWORKS``), or both, and then a scrape must satisfy every one that is
set. With neither it answers 404, as if it did not exist. The figures name views, tasks, queues and
providers, never a tenant, so a reader learns how busy Spaceport is, not who uses it.

Several gunicorn workers each count their own requests; with ``PROMETHEUS_MULTIPROC_DIR`` set
(see ``spaceport/gunicorn.py`` and docs/operations.md) each writes its figures to a file there and
the scrape adds them up, whichever worker answers it.
"""

from __future__ import annotations

import hmac
import ipaddress

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    disable_created_metrics,
    generate_latest,
    multiprocess,
)

from commits.metrics import CommitCollector
from portal.web.stateless import sessionless
from spaceport.taskmetrics import CeleryCollector

# A ``_created`` series beside every counter doubles what is stored and says nothing a restart does not.
disable_created_metrics()


def shared_figures() -> CollectorRegistry:
    """What the database and the broker hold, read at each scrape."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(CommitCollector())
    registry.register(CeleryCollector())
    return registry


def process_figures() -> CollectorRegistry:
    """What this process counted, or, in multiprocess mode, what every process counted."""
    if not settings.PROMETHEUS_MULTIPROC_DIR:
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    return registry


def allowed(request: HttpRequest) -> bool:
    token: str = settings.SPACEPORT_METRICS_TOKEN
    networks = settings.SPACEPORT_METRICS_NETWORKS
    if not token and not networks:
        raise Http404
    if token:
        scheme, _, offered = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(offered.strip().encode(), token.encode()):
            return False
    if networks:
        try:
            address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
        except ValueError:
            return False
        if not any(address in network for network in networks):
            return False
    return True


@sessionless
@never_cache
@require_safe
def metrics(request: HttpRequest) -> HttpResponse:
    if not allowed(request):
        return HttpResponse("Forbidden\n", status=403, content_type="text/plain")
    body = generate_latest(process_figures()) + generate_latest(shared_figures())
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)
