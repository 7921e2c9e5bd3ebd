"""botocore clients for the S3-protocol stores: timeouts from settings, one fixed key pair, lean parsing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import botocore.session
from botocore import UNSIGNED
from botocore.config import Config
from botocore.credentials import Credentials, ReadOnlyCredentials
from django.conf import settings

from connections.egress_http import guard_botocore
from connections.providers.sdk import botocore_session


def s3_config(
    *, addressing_style: str = "auto", unsigned: bool = False, only_required_checksums: bool = False
) -> Config:
    """Timeouts and retries from settings, so a dead endpoint fails in seconds rather than minutes.

    ``only_required_checksums`` keeps botocore from sending the CRC checksums newer AWS regions
    expect but many S3-compatible stores (IBM COS, older MinIO, VAST) refuse.
    """
    options: dict[str, Any] = {
        "connect_timeout": settings.SPACEPORT_S3_CONNECT_TIMEOUT,
        "read_timeout": settings.SPACEPORT_S3_READ_TIMEOUT,
        "retries": {"mode": "standard", "max_attempts": settings.SPACEPORT_S3_MAX_ATTEMPTS},
        "s3": {"addressing_style": addressing_style},
        "user_agent_extra": "spaceport",
        "max_pool_connections": max(10, settings.SPACEPORT_COMMIT_CONCURRENCY * 2),
        "parameter_validation": False,
    }
    if unsigned:
        options["signature_version"] = UNSIGNED
    if only_required_checksums:
        options["request_checksum_calculation"] = "when_required"
        options["response_checksum_validation"] = "when_required"
    return Config(**options)


def fixed_keys(access_key_id: str, secret_access_key: str) -> Callable[[], ReadOnlyCredentials]:
    """Credentials for direct requests signed with one fixed key pair."""
    return Credentials(access_key_id, secret_access_key).get_frozen_credentials


def s3_session() -> botocore.session.Session:
    """A botocore session whose S3 answers keep their timestamps as sent.

    Nothing here reads them, and parsing every listed object's LastModified with dateutil cost
    a commit's plan more CPU than the rest of the listing.
    """
    session = botocore_session()
    session.get_component("response_parser_factory").set_parser_defaults(timestamp_parser=str)
    return session


def static_key_s3(
    *,
    endpoint_url: str | None,
    region: str,
    access_key_id: str,
    secret_access_key: str,
    config: Config,
    verify: bool = True,
) -> Any:
    """An S3 client signing with one fixed key pair, isolated from any AWS profile on the host."""
    client = s3_session().create_client(
        "s3",
        region_name=region,
        endpoint_url=endpoint_url or None,
        verify=verify,
        aws_access_key_id=access_key_id,
        aws_secret_access_key=secret_access_key,
        config=config,
    )
    return guard_botocore(client)
