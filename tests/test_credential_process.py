"""A long job renews its own credentials: boto3 runs ``spaceport credentials --format aws`` as its
``credential_process`` against a live portal vending moto STS credentials, and keeps working past
the first credential's expiry.

The credential lives 15 minutes, the least STS allows. So that the test takes seconds, botocore is
told to refresh 880 seconds before expiry instead of 15 minutes (its class-wide windows, which every
refreshable credential reads): it keeps each credential about 20 seconds. Nothing else changes; in
particular the portal's credential cache keeps its default buffer, and the client's
``min_remaining_minutes`` is what keeps it from handing botocore the same credential again.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.credentials import RefreshableCredentials

from connections.active import make_active
from connections.models import CloudConnection, Status
from portal.auth.models import ApiToken
from portal.tenancy.models import Space
from tests import test_vending_aws
from tests.emulators import MotoServer

sts_at_moto = test_vending_aws.sts_at_moto
bucket = test_vending_aws.bucket
principal = test_vending_aws.principal
cross_account = test_vending_aws.cross_account

ROOT = Path(__file__).resolve().parent.parent
LIFETIME_SECONDS = 900
KEPT_SECONDS = 20
ADVISORY_SECONDS = LIFETIME_SECONDS - KEPT_SECONDS
MANDATORY_SECONDS = ADVISORY_SECONDS - 10


@pytest.fixture
def short_lived(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(RefreshableCredentials, "_advisory_refresh_timeout", ADVISORY_SECONDS)
    monkeypatch.setattr(RefreshableCredentials, "_mandatory_refresh_timeout", MANDATORY_SECONDS)


@pytest.fixture
def profile(
    live_server: Any, member: Any, space: Space, cross_account: CloudConnection, tmp_path: Path, monkeypatch: Any
) -> str:
    """An ``~/.aws/config`` with the profile the space page shows, and the member's token in the environment."""
    cross_account.status = Status.VALID
    cross_account.save()
    make_active(cross_account)
    _, key = ApiToken.issue(member, "long job")
    command = (
        f"{sys.executable} -m spaceport_cli credentials --url {live_server.url} --organization acme --space raw "
        f"--access write --lifetime-minutes {LIFETIME_SECONDS // 60} --format aws"
    )
    config = tmp_path / "aws-config"
    config.write_text(f"[profile raw]\ncredential_process = {command}\nregion = us-east-1\n")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    monkeypatch.setenv("SPACEPORT_TOKEN", key)
    return "raw"


@pytest.mark.usefixtures("short_lived")
def test_a_boto3_job_outlives_its_first_credential(profile: str, moto_server: MotoServer, bucket: str) -> None:
    # Timed from before the first credential is fetched: its lifetime runs from its issue, and on a
    # loaded machine fetching it and making the client can take seconds.
    start = time.monotonic()
    session = boto3.Session(profile_name=profile)
    s3 = session.client("s3", endpoint_url=moto_server.endpoint_url)
    credentials = session.get_credentials()
    assert isinstance(credentials, RefreshableCredentials)  # the Expiration made it refreshable
    used: list[tuple[float, str]] = []
    while time.monotonic() - start < 6 * KEPT_SECONDS:
        key = f"spaceport/raw/run/{len(used):03d}.csv"
        s3.put_object(Bucket=bucket, Key=key, Body=b"t,v\n0,1\n")
        assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == b"t,v\n0,1\n"
        used.append((time.monotonic() - start, credentials.get_frozen_credentials().access_key))
        keys = [access_key for _, access_key in used]
        if len(set(keys)) >= 2 and keys.count(keys[-1]) >= 2:
            break
        time.sleep(1)
    keys = [access_key for _, access_key in used]
    assert len(set(keys)) >= 2, f"one credential for {used[-1][0]:.0f} s: never renewed"
    first = keys[0]
    renewed_at = next(moment for moment, access_key in used if access_key != first)
    # Kept until the refresh window, not fetched on every call: the Expiration is what boto3 went by.
    assert renewed_at >= KEPT_SECONDS - 5
    assert keys.count(first) >= 3
    listed = s3.list_objects_v2(Bucket=bucket, Prefix="spaceport/raw/run/")
    assert listed["KeyCount"] == len(used)
