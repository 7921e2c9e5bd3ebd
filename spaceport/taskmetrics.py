"""Celery figures for Prometheus: tasks by name and state, their runtime, and what waits on each queue.

Workers run on other machines than the web process serving ``/metrics``; what they share is the
result table (django-celery-results, every task's state with its start and end, kept for
``CELERY_RESULT_EXPIRES``) and the broker. Both are read when the metrics are scraped, so the
figures cover the results still kept, and a queue's length is the broker's own count.
Tasks that keep no result (the audit journal's drain, every few seconds) are not in the table.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from django.conf import settings
from django.db.models import Count, DurationField, ExpressionWrapper, F, Sum
from django_celery_results.models import TaskResult
from prometheus_client.core import GaugeMetricFamily, Metric, SummaryMetricFamily
from prometheus_client.registry import Collector

from spaceport.queues import queue_lengths, queue_names

log = logging.getLogger(__name__)


class CeleryCollector(Collector):
    def collect(self) -> Iterator[Metric]:
        yield self._tasks()
        yield self._runtimes()
        yield from self._queues()

    @staticmethod
    def _tasks() -> GaugeMetricFamily:
        tasks = GaugeMetricFamily(
            "spaceport_celery_tasks", "Tasks whose result is kept, by name and state.", labels=["task", "state"]
        )
        rows = TaskResult.objects.values("task_name", "status").annotate(count=Count("pk")).order_by()
        for row in rows:
            tasks.add_metric([row["task_name"] or "unknown", row["status"]], row["count"])
        return tasks

    @staticmethod
    def _runtimes() -> SummaryMetricFamily:
        runtime = ExpressionWrapper(F("date_done") - F("date_started"), output_field=DurationField())
        summary = SummaryMetricFamily(
            "spaceport_celery_task_runtime_seconds",
            "Time from a worker starting a task to its end, over the results kept.",
            labels=["task"],
        )
        rows = (
            TaskResult.objects.filter(date_started__isnull=False, date_done__isnull=False)
            .values("task_name")
            .annotate(count=Count("pk"), total=Sum(runtime))
            .order_by()
        )
        for row in rows:
            summary.add_metric([row["task_name"] or "unknown"], row["count"], row["total"].total_seconds())
        return summary

    @staticmethod
    def _queues() -> Iterator[Metric]:
        up = GaugeMetricFamily("spaceport_celery_broker_up", "Whether the broker answered this scrape.")
        names = queue_names(settings.CELERY_TASK_DEFAULT_QUEUE)
        try:
            lengths = queue_lengths(
                settings.CELERY_BROKER_URL, names, transport_options=settings.CELERY_BROKER_TRANSPORT_OPTIONS
            )
        except Exception as error:  # any failure means no figures this time, whatever raised it
            log.warning("queue lengths unavailable: %s", type(error).__name__)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        waiting = GaugeMetricFamily("spaceport_celery_queue_length", "Tasks waiting on each queue.", labels=["queue"])
        for name in names:
            waiting.add_metric([name], lengths[name])
        yield waiting
