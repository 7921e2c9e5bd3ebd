"""``spaceport credentials``: short-lived credentials for a space, printed in the form a tool reads.

In ``~/.aws/config``::

    [profile raw]
    credential_process = spaceport credentials --url https://portal.example --organization acme --space raw --format aws

and the AWS CLI or boto3 runs the command again before each credential expires.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from spaceport_cli import formats
from spaceport_cli.config import resolve
from spaceport_cli.errors import ClientError
from spaceport_cli.portal import fetch_credential

ACCESS_LEVELS = ("read", "write", "delete")
TARGETS = ("space", "loadingzone")
# botocore asks a credential_process again 15 minutes before Expiration; a credential closer to its
# end than that would bring it straight back, so the AWS form asks for one with more left.
AWS_REFRESH_MINUTES = 16


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="spaceport", description="Spaceport's command-line client.")
    commands = top.add_subparsers(dest="command", required=True, metavar="command")
    credentials = commands.add_parser(
        "credentials",
        help="print short-lived credentials for a space",
        description="Ask the portal for credentials for one space and print them for a tool. The portal address and "
        "API token come from --url/--token, else SPACEPORT_URL/SPACEPORT_TOKEN, else the [default] section of "
        "~/.config/spaceport/config (url = ..., token = ...).",
    )
    credentials.add_argument("--url", help="the portal, such as https://spaceport.example.org")
    credentials.add_argument("--token", help="a personal API token (prefer SPACEPORT_TOKEN or the config file)")
    credentials.add_argument("--config", help="a configuration file other than ~/.config/spaceport/config")
    credentials.add_argument("--organization", "-o", required=True)
    credentials.add_argument("--space", "-s", required=True)
    credentials.add_argument("--access", choices=ACCESS_LEVELS, default="read")
    credentials.add_argument(
        "--target", choices=TARGETS, default="space", help="'loadingzone' opens the loadingzone for an upload"
    )
    credentials.add_argument(
        "--lifetime-minutes", type=int, help="the portal's default for the access level if left out"
    )
    credentials.add_argument(
        "--min-remaining-minutes",
        type=int,
        help=f"reuse an earlier credential only with more than this left (default {AWS_REFRESH_MINUTES} for aws)",
    )
    credentials.add_argument("--format", "-f", choices=tuple(formats.FORMS), default="aws")
    credentials.add_argument("--remote", help="the rclone remote's name (default: spaceport-<space>)")
    return top


def min_remaining(form: str, asked: int | None) -> int | None:
    if asked is not None:
        return asked
    return AWS_REFRESH_MINUTES if form == "aws" else None


def main(argv: Sequence[str] | None = None) -> int:
    arguments = parser().parse_args(argv)
    try:
        portal = resolve(arguments.url, arguments.token, arguments.config)
        answer = fetch_credential(
            portal,
            arguments.organization,
            arguments.space,
            access=arguments.access,
            target=arguments.target,
            lifetime_minutes=arguments.lifetime_minutes,
            min_remaining_minutes=min_remaining(arguments.format, arguments.min_remaining_minutes),
        )
        text = formats.render(arguments.format, answer, arguments.remote or f"spaceport-{arguments.space}")
    except ClientError as exc:
        print(f"spaceport: {exc.message}", file=sys.stderr)
        return exc.exit_code
    print(text)
    return 0
