"""The queues background work travels on: one per kind of work, so a flood of one never starves another.

Thousands of housekeeping tasks (a revalidation of every connection, a key sweep) or webhooks
retrying against a slow receiver would otherwise sit in front of the validation a person is waiting
for on the wizard's page. Each kind has its queue, named after the deployment's default queue
(``CELERY_TASK_DEFAULT_QUEUE``, ``spaceport`` unless set) so several deployments, or test runs,
can share one broker. A worker started without ``-Q`` consumes them all; ``-Q`` gives a kind
workers of its own (``docker-compose.yml``). What no route names (revoking what was issued, a new
space's storage) stays on the default queue.
"""

from __future__ import annotations

from kombu import Connection, Exchange, Queue

# Each kind of work, with the tasks it holds. A name may end in ``*``: new tasks of that module
# follow it. Exact names are matched before patterns, whatever their order here.
ROUTES: dict[str, tuple[str, ...]] = {
    "validation": ("connections.tasks.validate_connection",),
    "commits": ("commits.tasks.run_commit", "commits.tasks.*"),
    "webhooks": ("commits.tasks.deliver_webhook",),
    "housekeeping": (
        "commits.tasks.resume_stalled_commits",
        "connections.tasks.revalidate_connections",
        "connections.tasks.rotate_connection_keys",
        "connections.tasks.rotate_connection_key",
        "accessgrants.tasks.sweep_access_keys",
        "portal.tasks.purge_expired_api_tokens",
        "portal.tasks.drain_audit_journal",
        "portal.tasks.send_owed_tasks",
        "celery.backend_cleanup",
    ),
}
KINDS = tuple(ROUTES)


def queue_name(default_queue: str, kind: str) -> str:
    """The queue of one kind of work: ``spaceport.validation`` beside the default ``spaceport``."""
    return f"{default_queue}.{kind}"


def queue_names(default_queue: str) -> list[str]:
    """Every queue a worker that does all the work consumes, the default queue first."""
    return [default_queue, *(queue_name(default_queue, kind) for kind in KINDS)]


def task_queues(default_queue: str) -> tuple[Queue, ...]:
    """The queues as Celery declares them: each on a direct exchange of its own name, as Celery
    would create a missing one, so RabbitMQ and Redis route the same way."""
    return tuple(Queue(name, Exchange(name, type="direct"), routing_key=name) for name in queue_names(default_queue))


def task_routes(default_queue: str) -> dict[str, dict[str, str]]:
    """``CELERY_TASK_ROUTES``: each task name (or pattern) to its kind's queue."""
    return {task: {"queue": queue_name(default_queue, kind)} for kind, tasks in ROUTES.items() for task in tasks}


def queue_lengths(
    broker_url: str, names: list[str], timeout: int = 1, transport_options: dict[str, object] | None = None
) -> dict[str, int]:
    """How many tasks wait on each queue, asked of the broker with a passive declare (which creates
    nothing); a queue nobody declared yet, or Redis's empty list, holds none. ``transport_options``
    are the broker's own (``CELERY_BROKER_TRANSPORT_OPTIONS``: the embedded broker's folders)."""
    lengths: dict[str, int] = {}
    options = {**(transport_options or {}), **_timeouts(timeout)}
    with Connection(broker_url, connect_timeout=timeout, transport_options=options) as broker:
        broker.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=timeout)
        for name in names:
            # A refused passive declare closes the AMQP channel: each queue gets a channel of its own.
            with broker.channel() as channel:
                try:
                    declared = channel.queue_declare(name, passive=True)  # type: ignore[attr-defined]
                    lengths[name] = declared.message_count
                except broker.channel_errors:
                    lengths[name] = 0
    return lengths


def _timeouts(seconds: int) -> dict[str, int]:
    return {"socket_connect_timeout": seconds, "socket_timeout": seconds}
