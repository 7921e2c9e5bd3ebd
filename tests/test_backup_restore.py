"""A backup restores: a pg_dump of the database, restored into a fresh database, gives a new
deployment every connection's secret, given the encryption keys, and nothing without them.

The dump and restore use PostgreSQL's own client tools, as docs/operations.md tells an operator
to; the restored deployment is a separate ``manage.py`` process configured only through its
environment, the way a new server would be.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from django.db import connection as db_connection

from connections import lifecycle
from portal.tenancy.models import Organization

ROOT = Path(__file__).resolve().parent.parent
SERVER = ["-h", "127.0.0.1", "-p", "5432", "-U", "postgres"]
SECRET = "restored-" + "k" * 31
READ_SECRET = (
    "from connections.models import CloudConnection; "
    "print(CloudConnection.objects.get(name='store').secret['secret_access_key'])"
)

pytestmark = pytest.mark.postgres_only(reason="dumps and restores with pg_dump and pg_restore")


@pytest.fixture
def fresh_database() -> Iterator[str]:
    name = f"spaceport_restore_{secrets.token_hex(4)}"
    subprocess.run(["createdb", *SERVER, name], check=True, capture_output=True)
    yield name
    subprocess.run(["dropdb", *SERVER, "--force", name], check=True, capture_output=True)


def deployment(database: str, keys: list[str], *arguments: str) -> subprocess.CompletedProcess[str]:
    """``manage.py`` as a production server on the restored database, with only these keys."""
    environment = {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{database}",
        "SPACEPORT_ENCRYPTION_KEYS": ",".join(keys),
    }
    return subprocess.run(
        [sys.executable, "manage.py", *arguments],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_dump_restored_into_a_fresh_database_reads_its_secrets_with_the_keys(
    transactional_db: None, organization: Organization, settings: Any, fresh_database: str, tmp_path: Path
) -> None:
    key, other, new = (Fernet.generate_key().decode() for _ in range(3))
    settings.ENCRYPTION_KEYS = [key]
    lifecycle.create_connection(
        organization,
        name="store",
        method="s3_static_keys",
        values={
            "endpoint": "https://s3.example.org",
            "bucket": "acme-data",
            "access_key_id": "SPACEPORTKEY",
            "secret_access_key": SECRET,
        },
        validate=False,
    )
    dump = tmp_path / "spaceport.dump"
    source = db_connection.settings_dict["NAME"]
    subprocess.run(
        ["pg_dump", *SERVER, "--format=custom", "--compress=0", f"--file={dump}", source], check=True, timeout=120
    )
    assert b"SPACEPORTKEY" in dump.read_bytes(), "the dump is not plain enough to search"
    assert SECRET.encode() not in dump.read_bytes(), "the dump holds the secret in the clear"
    subprocess.run(
        ["pg_restore", *SERVER, "--no-owner", "--exit-on-error", f"--dbname={fresh_database}", str(dump)],
        check=True,
        timeout=120,
    )

    restored = deployment(fresh_database, [key], "shell", "-c", READ_SECRET)
    assert restored.returncode == 0, restored.stderr
    assert restored.stdout.splitlines()[-1] == SECRET

    wrong = deployment(fresh_database, [other], "shell", "-c", READ_SECRET)
    assert wrong.returncode != 0
    assert "cannot be decrypted with any key in SPACEPORT_ENCRYPTION_KEYS" in wrong.stderr
    assert SECRET not in wrong.stdout + wrong.stderr

    # Rotating on the restored deployment: the new key first, re-encrypt, then the old key can go.
    rotated = deployment(fresh_database, [new, key], "rotate_encryption_keys")
    assert rotated.returncode == 0, rotated.stderr
    assert "re-encrypted under the first key" in rotated.stdout
    after = deployment(fresh_database, [new], "shell", "-c", READ_SECRET)
    assert (after.returncode, after.stdout.splitlines()[-1]) == (0, SECRET), after.stderr
    assert deployment(fresh_database, [key], "shell", "-c", READ_SECRET).returncode != 0
