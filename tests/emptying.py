"""How the database is emptied after each test that commits (``transaction=True``, live servers, workers).

Django empties it with ``flush``: on PostgreSQL one ``TRUNCATE`` of every table, then the
``post_migrate`` signal to make the content types and permissions again. ``TRUNCATE`` gives each
table new files on disk, which on this suite's small tables costs a second or more per test on a
busy machine; ``DELETE`` of the few rows a test wrote costs milliseconds, and the foreign keys Django
makes are deferrable, so the order of the deletes does not matter inside the one transaction
``flush`` runs them in. The content types and permissions are what ``migrate`` made when the test
database was created; no test changes them, so they are kept instead of deleted and made again.

The result is the same database ``flush`` leaves behind: every table empty but those two, which hold
exactly what ``post_migrate`` would have put back. On SQLite, and where a test asks for its sequences
to be reset, Django's own statements empty the same tables.
"""

from __future__ import annotations

from typing import Any

from django.core.management.commands import flush

KEPT = frozenset({"django_content_type", "auth_permission"})


def sql_emptying(style: Any, connection: Any, reset_sequences: bool = True, allow_cascade: bool = False) -> list[str]:
    """The statements that empty every table but :data:`KEPT`."""
    tables = [
        table
        for table in connection.introspection.django_table_names(only_existing=True, include_views=False)
        if table not in KEPT
    ]
    if reset_sequences or connection.vendor != "postgresql":
        return list(
            connection.ops.sql_flush(style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade)
        )
    quote = connection.ops.quote_name
    return ["SET CONSTRAINTS ALL DEFERRED", *(f"DELETE FROM {quote(table)}" for table in tables)]  # noqa: S608 (table names, quoted)


def nothing_to_make_again(*args: Any, **kwargs: Any) -> None:
    """The kept content types and permissions are already there."""


flush.sql_flush = sql_emptying  # type: ignore[attr-defined]
flush.emit_post_migrate_signal = nothing_to_make_again  # type: ignore[attr-defined]
