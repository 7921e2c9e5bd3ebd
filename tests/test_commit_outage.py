"""A commit whose worker loses the database in the middle is not half-committed.

A real worker reaches PostgreSQL through a link the test cuts while the commit moves objects on
``rclone serve s3``: during the outage every object is either still in the loadingzone or, with
its bytes, in the space; once the database is back, the commit is resumed and ends with every
object in the space exactly once and one ``commit.finish`` on the trail.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.db import connection

from commits.models import Commit, CommitState
from commits.starting import start_commit
from commits.tasks import resume_stalled_commits
from portal.audit.models import AuditEvent
from portal.tenancy.models import LOADINGZONE, Space
from tests.fixtures.worker import worker_database_url
from tests.outage import link_to
from tests.test_commit_crash import OBJECTS, SLOW, contents, moved, upload
from tests.test_commits import Store, access_for_user, fresh_clients  # noqa: F401
from tests.test_commits import store as store


@pytest.mark.worker
@pytest.mark.postgres_only("the worker reaches PostgreSQL through a link the test cuts")
def test_a_commit_that_loses_the_database_midway_ends_whole(
    worker_factory: Any, member: Any, space: Space, store: Store
) -> None:
    uploaded = upload(store, OBJECTS)
    database_port = int(connection.settings_dict["PORT"])
    with link_to(database_port) as link:
        url = worker_database_url().replace(f":{database_port}/", f":{link.port}/")
        worker = worker_factory({**SLOW, "DATABASE_URL": url})
        commit = start_commit(access_for_user(member), space, root_dir="run-7", user=member)
        worker.wait_for(lambda: moved(commit) >= 300, timeout=90, what="the first objects to move")

        link.cut()
        time.sleep(5)
        assert worker.process.poll() is None, "the worker waits for the database, it does not exit"
        commit.refresh_from_db()
        assert commit.state == CommitState.RUNNING
        assert moved(commit) < OBJECTS, "cut in the middle, not after the end"
        in_space = contents(store, "raw")
        left = contents(store, LOADINGZONE)
        assert all(uploaded[key] == digest for key, digest in in_space.items()), "no partial object"
        assert set(left) | set(in_space) == set(uploaded), "during the outage, every object is somewhere"

        link.restore()
        resume_stalled_commits.delay(stalled_after=0)

        def finished() -> bool:
            commit.refresh_from_db()
            return commit.state not in (CommitState.QUEUED, CommitState.RUNNING)

        worker.wait_for(finished, timeout=180, what="the commit to finish once the database is back")
    assert commit.state == CommitState.SUCCEEDED, commit.error
    assert contents(store, "raw") == uploaded, "every object once, with its bytes, and nothing else"
    assert contents(store, LOADINGZONE) == {}
    assert commit.moved + commit.skipped == OBJECTS
    assert commit.failed == commit.conflicts == 0
    assert AuditEvent.objects.filter(action="commit.finish", target_id=str(commit.pk)).count() == 1
    assert Commit.objects.filter(space=space).count() == 1
    assert "OperationalError" in worker.output(), "the worker met the outage, it did not finish before it"
