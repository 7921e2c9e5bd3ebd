"""A vended credential in the forms tools read: each function takes the API's answer and returns text.

The AWS form is the ``credential_process`` contract: JSON with ``Version`` 1 and an ``Expiration``,
which is what makes the AWS CLI and the SDKs run the command again shortly before the keys expire,
so a job that runs for days renews its own credentials.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from spaceport_cli.errors import UNSUITED, ClientError

AWS_KIND = "aws_sts"
AZURE_KIND = "azure_sas"
GCS_KIND = "gcp_downscoped_token"
KIND_NAMES = {
    AWS_KIND: "temporary AWS keys",
    AZURE_KIND: "an Azure SAS",
    GCS_KIND: "a Google Cloud Storage token",
    "s3_presigned_urls": "presigned URLs",
}


def expiration(answer: dict[str, Any]) -> str:
    """``expires_at`` as the ISO-8601 UTC instant every AWS SDK parses."""
    instant = datetime.fromisoformat(str(answer["expires_at"]).replace("Z", "+00:00"))
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def fits(form: str, kind: str) -> bool:
    return kind in FORM_KINDS.get(form, (kind,))


def render(form: str, answer: dict[str, Any], remote: str) -> str:
    """The answer in ``form``, or a sentence naming the forms that fit this space's storage."""
    kind = str(answer.get("kind"))
    if not fits(form, kind):
        found = KIND_NAMES.get(kind, kind)
        others = " or ".join(f"--format {name}" for name in FORMS if fits(name, kind))
        raise ClientError(
            f"--format {form} does not fit this space: its storage hands out {found}; use {others}.", UNSUITED
        )
    return FORMS[form](answer, remote)


def aws_process(answer: dict[str, Any], remote: str) -> str:
    secret = answer["credentials"]
    return json.dumps(
        {
            "Version": 1,
            "AccessKeyId": secret["access_key_id"],
            "SecretAccessKey": secret["secret_access_key"],
            "SessionToken": secret["session_token"],
            "Expiration": expiration(answer),
        }
    )


def environment(answer: dict[str, Any], remote: str) -> str:
    secret, location = answer["credentials"], answer["location"]
    kind = answer["kind"]
    if kind == AWS_KIND:
        names = {
            "AWS_ACCESS_KEY_ID": secret["access_key_id"],
            "AWS_SECRET_ACCESS_KEY": secret["secret_access_key"],
            "AWS_SESSION_TOKEN": secret["session_token"],
            "AWS_DEFAULT_REGION": location.get("region", ""),
            "AWS_ENDPOINT_URL_S3": location.get("endpoint_url", ""),
        }
    elif kind == AZURE_KIND:
        names = {
            "AZURE_STORAGE_ACCOUNT_URL": location["account_url"],
            "AZURE_STORAGE_CONTAINER": location["container"],
            "AZURE_STORAGE_SAS_TOKEN": secret["sas"],
        }
    else:
        names = {"CLOUDSDK_AUTH_ACCESS_TOKEN": secret["access_token"]}
    names["SPACEPORT_CREDENTIAL_EXPIRES"] = expiration(answer)
    return "\n".join(f"export {name}={shlex.quote(value)}" for name, value in names.items() if value)


def rclone(answer: dict[str, Any], remote: str) -> str:
    """A section for ``rclone.conf``; the remote's paths are ``<remote>:<bucket>/<prefix>``."""
    secret, location = answer["credentials"], answer["location"]
    kind = answer["kind"]
    if kind == AWS_KIND:
        lines = [
            "type = s3",
            "provider = AWS",
            f"access_key_id = {secret['access_key_id']}",
            f"secret_access_key = {secret['secret_access_key']}",
            f"session_token = {secret['session_token']}",
            f"region = {location.get('region', '')}",
            "no_check_bucket = true",
        ]
        if location.get("endpoint_url"):
            # A set endpoint is a private or regional one: addressed by path, as the AWS SDKs do for it.
            lines += [f"endpoint = {location['endpoint_url']}", "force_path_style = true"]
    elif kind == AZURE_KIND:
        lines = ["type = azureblob", f"sas_url = {secret['container_url']}"]
    else:
        lines = ["type = google cloud storage", f"access_token = {secret['access_token']}", "bucket_policy_only = true"]
    path = f"{location.get('bucket') or location.get('container')}/{location.get('prefix', '')}"
    return "\n".join([f"# expires {expiration(answer)}; use as {remote}:{path}", f"[{remote}]", *lines, ""])


def sas(answer: dict[str, Any], remote: str) -> str:
    return str(answer["credentials"]["sas"])


def gcs_token(answer: dict[str, Any], remote: str) -> str:
    return str(answer["credentials"]["access_token"])


def raw(answer: dict[str, Any], remote: str) -> str:
    """The API's answer without its snippets, for scripts that want every field."""
    return json.dumps({key: value for key, value in answer.items() if key != "snippets"}, indent=2)


Form = Callable[[dict[str, Any], str], str]
FORMS: dict[str, Form] = {
    "aws": aws_process,
    "env": environment,
    "rclone": rclone,
    "sas": sas,
    "gcs-token": gcs_token,
    "json": raw,
}
FORM_KINDS: dict[str, tuple[str, ...]] = {
    "aws": (AWS_KIND,),
    "env": (AWS_KIND, AZURE_KIND, GCS_KIND),
    "rclone": (AWS_KIND, AZURE_KIND, GCS_KIND),
    "sas": (AZURE_KIND,),
    "gcs-token": (GCS_KIND,),
}
