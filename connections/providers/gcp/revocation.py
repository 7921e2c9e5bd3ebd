"""Downscoped Cloud Storage tokens cannot be recalled; they live as long as the token they were cut from."""

from __future__ import annotations

from typing import TYPE_CHECKING

from connections.providers.revoking import Revocability, span

if TYPE_CHECKING:
    from connections.models import CloudConnection

# A GCS downscoped token lives as long as the access token it was cut from: one hour.
GCS_TOKEN_MINUTES = 60


def revocability(connection: CloudConnection) -> Revocability:
    return Revocability(
        False,
        "Downscoped Cloud Storage tokens cannot be recalled: each stays valid until it expires, at most "
        f"{span(GCS_TOKEN_MINUTES)} (the lifetime of the access token it was cut from).",
    )
