"""Which tests run on both databases, and which only on PostgreSQL.

``make test`` runs the whole suite on PostgreSQL, then runs the files below again on SQLite
(``SPACEPORT_TEST_DB=sqlite pytest -m both_databases``), the database ``make run`` uses: the
tenancy, access rules, REST API, page, audit and token tests. The list lives here and only here.

A test marked ``postgres_only`` needs something SQLite does not have (advisory locks, row locks
that really block, ``pg_dump``); on SQLite it is deselected, never skipped, and the marker's
reason says why.
"""

from __future__ import annotations

import os

import pytest

BOTH_DATABASES = frozenset(
    {
        "test_tenancy.py",
        "test_rules.py",
        "test_api_audit.py",
        "test_api_grants.py",
        "test_api_orgs.py",
        "test_api_spaces.py",
        "test_api_tokens.py",
        "test_accessmanager_api.py",
        "test_credentials_api.py",
        "test_connections_api.py",
        "test_pages.py",
        "test_wizard_pages.py",
        "test_space_credentials_page.py",
        "test_admin.py",
        "test_audit.py",
        "test_access_sweep.py",
        "test_connection_lifecycle.py",
        "test_access_parity.py",
        "test_api_policies.py",
        "test_policy_admin.py",
        "test_policy_pages.py",
        "test_api_keys.py",
        "test_s3keys_compat.py",
        "test_key_pages.py",
        "test_waiting_pages.py",
        "test_beat_lock.py",
    }
)


def on_sqlite() -> bool:
    return os.environ.get("SPACEPORT_TEST_DB", "postgres") == "sqlite"


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark before ``-m`` selects, so ``-m both_databases`` sees the marks."""
    for item in items:
        if item.path.name in BOTH_DATABASES:
            item.add_marker(pytest.mark.both_databases)
    if on_sqlite():
        postgres_only = [item for item in items if item.get_closest_marker("postgres_only")]
        if postgres_only:
            config.hook.pytest_deselected(items=postgres_only)
            items[:] = [item for item in items if not item.get_closest_marker("postgres_only")]
