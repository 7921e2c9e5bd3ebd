"""The ``~/.aws/config`` lines that let a long job fetch a space's credentials by itself.

The AWS CLI and SDKs run a profile's ``credential_process`` again shortly before the credential it
printed expires, so a job pointed at ``spaceport credentials`` outlives any one credential and
nobody pastes keys. Shown on the space page where the store hands out AWS keys with an expiry.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from django.http import HttpRequest

from connections.storage import Access, active_connection, descriptor_of, location_for
from portal.tenancy.models import Space

# The strongest level first: a job gets what its owner may do, and they can lower it in the line.
LEVELS = (Access.DELETE, Access.WRITE, Access.READ)


@dataclass(frozen=True)
class AwsProfile:
    name: str
    config: str
    example: str


def aws_profile(request: HttpRequest, space: Space, levels: list[str]) -> AwsProfile | None:
    """The profile for the strongest of ``levels``, or None where the store's credentials are not AWS keys."""
    connection = active_connection(space.organization)
    if connection is None or not levels:
        return None
    settings_of = descriptor_of(connection.provider).aws_profile
    if settings_of is None:
        return None
    access = next(level for level in LEVELS if level in levels)
    organization = space.organization.name
    name = f"{organization}-{space.name}"
    portal = request.build_absolute_uri("/").rstrip("/")
    command = shlex.join(
        [
            "spaceport",
            "credentials",
            "--url",
            portal,
            "--organization",
            organization,
            "--space",
            space.name,
            "--access",
            str(access),
            "--format",
            "aws",
        ]
    )
    lines = [f"[profile {name}]", f"credential_process = {command}"]
    lines += [f"{key} = {value}" for key, value in settings_of(connection).items()]
    location = location_for(connection, space.name)
    example = f"aws s3 ls --profile {name} {shlex.quote(f's3://{location.bucket}/{location.prefix}')}"
    return AwsProfile(name=name, config="\n".join(lines), example=example)
