"""Point the test run at the real databases and Redis on this machine.

Loaded as a pytest plugin (``-p tests.environment``) so it runs before Django reads its
settings. Each run gets its own test database name, var directory and queue, so parallel runs do
not collide, and neither do the workers of one run spread over processes (``-n``, pytest-xdist).

``SPACEPORT_TEST_DB=sqlite`` runs on SQLite, the database ``make run`` uses, in a file under
the run's own var directory (a file rather than memory, so a worker process can share it);
the default is the PostgreSQL on 127.0.0.1.
"""

from __future__ import annotations

import os
from pathlib import Path

TEST_DATABASES = ("postgres", "sqlite")

test_database = os.environ.get("SPACEPORT_TEST_DB", "postgres")
if test_database not in TEST_DATABASES:
    raise SystemExit(f"SPACEPORT_TEST_DB must be one of {', '.join(TEST_DATABASES)}, not {test_database!r}")

# What each run names after itself. pytest-xdist's workers inherit the environment of the process that
# started them: each drops the names that process chose and chooses its own, so two workers never
# share a test database, a var directory or a queue. A name given from outside is kept as it is.
OWN_NAMES = "SPACEPORT_TEST_OWN_NAMES"
own_names = set(filter(None, os.environ.get(OWN_NAMES, "").split(",")))
if os.environ.get("PYTEST_XDIST_WORKER"):
    for name in own_names:
        os.environ.pop(name, None)


def own(name: str, value: str) -> None:
    if name not in os.environ:
        os.environ[name] = value
        own_names.add(name)


own("SPACEPORT_VAR_DIR", f"/tmp/spaceport-test-{os.getpid()}")
if test_database == "sqlite":
    var_dir = os.environ["SPACEPORT_VAR_DIR"]
    Path(var_dir).mkdir(parents=True, exist_ok=True)
    own("DATABASE_URL", f"sqlite:///{var_dir}/spaceport.sqlite3")
    own("DATABASE_TEST_NAME", f"{var_dir}/test_spaceport.sqlite3")
else:
    os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/spaceport")
    own("DATABASE_TEST_NAME", f"test_spaceport_{os.getpid()}")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")
own("CELERY_TASK_DEFAULT_QUEUE", f"spaceport-test-{os.getpid()}")
os.environ[OWN_NAMES] = ",".join(sorted(own_names))
os.environ.setdefault("ACCOUNT_EMAIL_VERIFICATION", "mandatory")
# The emulators and stand-ins listen on loopback; the address-policy tests take this allowance away.
os.environ.setdefault("SPACEPORT_ALLOWED_PRIVATE_NETWORKS", "127.0.0.0/8,::1/128")
