"""SigV4 for requests sent on a connection's behalf, with whatever credentials its client holds.

The credentials are asked for on every request, so temporary ones (an assumed role, a web
identity) are refreshed by botocore before they expire, and a session token is signed in. A
refresh that fails is explained by the client it came from, as a :class:`StorageError`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from botocore.auth import UNSIGNED_PAYLOAD, S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials, ReadOnlyCredentials, RefreshableCredentials
from botocore.exceptions import BotoCoreError, ClientError

from connections.providers.base import StorageError
from connections.providers.signing import RequestSigner


class _UnsignedPayloadAuth(S3SigV4Auth):
    """SigV4 over ``UNSIGNED-PAYLOAD``: the body streams through whoever sends it, unbuffered."""

    def payload(self, request: Any) -> str:
        return UNSIGNED_PAYLOAD


class SigV4Signer(RequestSigner):
    """Signs with the connection's key pair, or the temporary credentials its client keeps fresh."""

    def __init__(
        self,
        endpoint: str,
        region: str,
        credentials: Callable[[], ReadOnlyCredentials],
        explain: Callable[[Exception], StorageError],
        *,
        verify_tls: bool = True,
    ) -> None:
        super().__init__(endpoint, region, verify_tls=verify_tls)
        self._credentials = credentials
        self._explain = explain

    def __repr__(self) -> str:
        return f"SigV4Signer({self.endpoint!r}, {self.region!r})"

    def waits(self) -> bool:
        """A fixed key pair never waits; temporary credentials wait only when they are due for refresh."""
        held = getattr(self._credentials, "__self__", None)
        if isinstance(held, RefreshableCredentials):
            return bool(held.refresh_needed())
        return not isinstance(held, Credentials)

    def signed_headers(self, method: str, url: str, headers: Mapping[str, str]) -> dict[str, str]:
        request = AWSRequest(method=method, url=url, headers={**headers, "X-Amz-Content-SHA256": UNSIGNED_PAYLOAD})
        try:
            credentials = self._credentials()
        except (BotoCoreError, ClientError) as exc:
            raise self._explain(exc) from exc
        _UnsignedPayloadAuth(credentials, "s3", self.region).add_auth(request)
        return dict(request.headers.items())
