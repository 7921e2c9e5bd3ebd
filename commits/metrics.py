"""Commit figures for Prometheus, read from the commits table when the metrics are scraped.

Commits are run by workers, often on other machines than the web process that serves
``/metrics``; the table is what they all share, and it already holds every figure (objects and
bytes moved, failures, start and end), so nothing is counted twice and nothing is lost when a
worker dies. Three aggregate queries per scrape, over an indexed state column.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, Sum
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from commits.models import ACTIVE_STATES, Commit, CommitState

# A small commit takes seconds, a large one hours.
DURATION_BUCKETS = (1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 3600.0, 4 * 3600.0, 24 * 3600.0)


class CommitCollector(Collector):
    def collect(self) -> Iterator[Metric]:
        by_state = GaugeMetricFamily("spaceport_commits", "Commits by state.", labels=["state"])
        counts = dict(Commit.objects.values_list("state").annotate(count=Count("pk")).values_list("state", "count"))
        for state in CommitState.values:
            by_state.add_metric([state], counts.get(state, 0))
        yield by_state

        totals = Commit.objects.aggregate(moved=Sum("moved"), bytes=Sum("bytes_moved"), failed=Sum("failed"))
        yield CounterMetricFamily(
            "spaceport_commit_objects_moved", "Objects moved into spaces.", value=totals["moved"] or 0
        )
        yield CounterMetricFamily(
            "spaceport_commit_bytes_moved", "Bytes moved into spaces.", value=totals["bytes"] or 0
        )
        yield CounterMetricFamily(
            "spaceport_commit_objects_failed", "Objects a commit gave up on.", value=totals["failed"] or 0
        )
        yield self._durations()

    def _durations(self) -> HistogramMetricFamily:
        """How long finished commits took from their first start to their end."""
        duration = ExpressionWrapper(F("finished") - F("started"), output_field=DurationField())
        finished = Commit.objects.exclude(state__in=ACTIVE_STATES).filter(started__isnull=False, finished__isnull=False)
        buckets = {
            f"le_{index}": Count("pk", filter=Q(duration__lte=timedelta(seconds=bound)))
            for index, bound in enumerate(DURATION_BUCKETS)
        }
        row = finished.annotate(duration=duration).aggregate(count=Count("pk"), total=Sum("duration"), **buckets)
        count = row["count"] or 0
        total: timedelta = row["total"] or timedelta()
        histogram = HistogramMetricFamily(
            "spaceport_commit_duration_seconds", "How long finished commits took, from start to end."
        )
        histogram.add_metric(
            [],
            [(str(bound), row[f"le_{index}"] or 0) for index, bound in enumerate(DURATION_BUCKETS)] + [("+Inf", count)],
            sum_value=total.total_seconds(),
        )
        return histogram
