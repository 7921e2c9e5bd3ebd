"""Point the test run at the real databases and Redis on this machine.

Loaded as a pytest plugin (``-p tests.environment``) so it runs before Django reads its
settings. Each run gets its own test database name, so parallel runs do not collide.

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

os.environ.setdefault("SPACEPORT_VAR_DIR", f"/tmp/spaceport-test-{os.getpid()}")
if test_database == "sqlite":
    var_dir = os.environ["SPACEPORT_VAR_DIR"]
    Path(var_dir).mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{var_dir}/spaceport.sqlite3")
    os.environ.setdefault("DATABASE_TEST_NAME", f"{var_dir}/test_spaceport.sqlite3")
else:
    os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/spaceport")
    os.environ.setdefault("DATABASE_TEST_NAME", f"test_spaceport_{os.getpid()}")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")
os.environ.setdefault("CELERY_TASK_DEFAULT_QUEUE", f"spaceport-test-{os.getpid()}")
os.environ.setdefault("ACCOUNT_EMAIL_VERIFICATION", "mandatory")
# The emulators and stand-ins listen on loopback; the address-policy tests take this allowance away.
os.environ.setdefault("SPACEPORT_ALLOWED_PRIVATE_NETWORKS", "127.0.0.0/8,::1/128")
