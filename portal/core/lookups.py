"""``has_element``: whether a JSON list holds one exact string, on PostgreSQL and SQLite alike.

Django's ``contains`` lookup on a JSON field is PostgreSQL-only, and SQLite's ``LIKE`` would
match substrings and ignore case; tags must match whole and exactly on both databases.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import JSONField, Lookup
from django.db.models.sql.compiler import SQLCompiler

if TYPE_CHECKING:
    from django.db.models.sql.compiler import _AsSqlType


@JSONField.register_lookup
class HasElement(Lookup):
    """``tags__has_element="lab"``: the list has the string ``lab`` as one of its elements."""

    lookup_name = "has_element"
    prepare_rhs = False

    def as_sql(self, compiler: SQLCompiler, connection: Any) -> _AsSqlType:
        """SQLite: unnest the list with ``json_each`` and compare element by element."""
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        # Only compiled SQL with placeholders is formatted in; the tag itself travels as a parameter.
        sql = f"EXISTS (SELECT 1 FROM json_each({lhs}) WHERE json_each.value = {rhs})"  # noqa: S608
        return sql, (*lhs_params, *rhs_params)

    def as_postgresql(self, compiler: SQLCompiler, connection: Any) -> _AsSqlType:
        """PostgreSQL: JSON containment of a one-element array."""
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} @> jsonb_build_array({rhs}::text)", (*lhs_params, *rhs_params)
