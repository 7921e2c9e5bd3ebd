"""Asking the portal's credentials API for one space, and turning its refusals into sentences."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import requests

from spaceport_cli.config import Portal
from spaceport_cli.errors import REFUSED, UNREACHABLE, ClientError

TIMEOUT_SECONDS = 30

# The API's request fields, as the person typed them.
FLAGS = {
    "access": "--access",
    "lifetime_minutes": "--lifetime-minutes",
    "min_remaining_minutes": "--min-remaining-minutes",
    "target": "--target",
}


def fetch_credential(
    portal: Portal,
    organization: str,
    space: str,
    *,
    access: str,
    target: str,
    lifetime_minutes: int | None,
    min_remaining_minutes: int | None = None,
) -> dict[str, Any]:
    """``POST .../credentials/``: the credential with its expiry, location and secret."""
    url = (
        f"{portal.url}/api/v1/organizations/{quote(organization, safe='')}/spaces/{quote(space, safe='')}/credentials/"
    )
    body: dict[str, Any] = {"access": access, "target": target}
    if lifetime_minutes is not None:
        body["lifetime_minutes"] = lifetime_minutes
    if min_remaining_minutes is not None:
        body["min_remaining_minutes"] = min_remaining_minutes
    headers = {"Authorization": f"Token {portal.token}", "Accept": "application/json"}
    try:
        response = requests.post(url, json=body, headers=headers, timeout=TIMEOUT_SECONDS)
    except requests.RequestException as exc:
        raise ClientError(
            f"Cannot reach the portal at {portal.url} (--url): {exc.__class__.__name__}.", UNREACHABLE
        ) from None
    if response.status_code == 201:
        answer: dict[str, Any] = response.json()
        return answer
    raise refusal(response, portal, organization, space)


def refusal(response: requests.Response, portal: Portal, organization: str, space: str) -> ClientError:
    """The portal's own message where it gave one, naming the flag it is about."""
    try:
        answer = response.json()
    except ValueError:
        answer = {}
    if not isinstance(answer, dict):
        answer = {}
    status = response.status_code
    message = str(answer.get("message") or answer.get("detail") or response.reason or "")
    code = answer.get("error")
    if status == 401:
        return ClientError(
            f"The portal at {portal.url} did not accept the API token (401): check SPACEPORT_TOKEN, --token or the "
            "configuration file, and that the token has not expired or been deleted.",
            REFUSED,
        )
    if status == 404:
        return ClientError(
            f"No space {organization}/{space} that you can see at {portal.url} (--organization, --space).", REFUSED
        )
    fields = answer.get("fields")
    if status == 400 and isinstance(fields, dict) and fields:
        named = ", ".join(
            f"{FLAGS.get(name, name)}: {' '.join(map(str, problems))}" for name, problems in fields.items()
        )
        return ClientError(f"The portal refused the request (400): {named}", REFUSED)
    if status >= 500:
        return ClientError(f"The portal at {portal.url} failed ({status}); try again later.", UNREACHABLE)
    if status == 429:
        wait = response.headers.get("Retry-After")
        message = f"{message} Retry after {wait} seconds." if wait else message
    suffix = f" [{code}]" if code else ""
    return ClientError(f"The portal refused the request ({status}): {message}{suffix}", REFUSED)
