"""The example cloud's credentials: a token naming the space's prefix, and a record of each request."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from connections.providers.vending import Credential, Scope

if TYPE_CHECKING:
    from connections.models import CloudConnection
    from connections.providers.descriptor import ClientSource

KIND = "example_token"
ASKED: list[Scope] = []


class ExampleVendor:
    per_user = False

    def vend(self, scope: Scope) -> Credential:
        ASKED.append(scope)
        return Credential(
            provider="example",
            kind=KIND,
            access=scope.access,
            expires_at=datetime.now(UTC) + scope.lifetime,
            location={"bucket": scope.location.bucket, "prefix": scope.location.prefix},
            secret={"token": f"ex-{scope.access}-{scope.location.prefix}"},
        )


def build_vendor(connection: CloudConnection, client_for: ClientSource) -> ExampleVendor:
    return ExampleVendor()
