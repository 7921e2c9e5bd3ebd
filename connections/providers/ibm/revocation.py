"""IBM COS: HMAC keys sign presigned URLs; an API key hands out nothing."""

from __future__ import annotations

from typing import TYPE_CHECKING

from connections.providers.ibm.methods import HMAC
from connections.providers.revoking import Revocability, nothing_issued
from connections.providers.s3.revocation import presigned_urls

if TYPE_CHECKING:
    from connections.models import CloudConnection


def revocability(connection: CloudConnection) -> Revocability:
    return presigned_urls(connection) if connection.method == HMAC else nothing_issued(connection)
