"""Point the test run at the real PostgreSQL and Redis on this machine.

Loaded as a pytest plugin (``-p tests.environment``) so it runs before Django reads its
settings. Each run gets its own test database name, so parallel runs do not collide.
"""

from __future__ import annotations

import os

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/spaceport")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")
os.environ.setdefault("DATABASE_TEST_NAME", f"test_spaceport_{os.getpid()}")
os.environ.setdefault("CELERY_TASK_DEFAULT_QUEUE", f"spaceport-test-{os.getpid()}")
os.environ.setdefault("SPACEPORT_VAR_DIR", f"/tmp/spaceport-test-{os.getpid()}")
os.environ.setdefault("ACCOUNT_EMAIL_VERIFICATION", "mandatory")
