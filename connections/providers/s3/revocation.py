"""Presigned URLs live as long as the keys that signed them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from connections.providers.revoking import Revocability, longest_lifetimes

if TYPE_CHECKING:
    from connections.models import CloudConnection


def presigned_urls(connection: CloudConnection) -> Revocability:
    return Revocability(
        False,
        "Presigned URLs cannot be recalled while the keys that signed them are valid: each stays valid until it "
        f"expires, at most {longest_lifetimes()}. Rotating the access key ends them all now.",
    )
