"""Signing a request that another process sends to a connection's store, on the connection's behalf.

The S3 gateway forwards each request it has checked to the store where the space lives, with the
connection's own credentials. How a store takes a request (a SigV4 signature with long-term keys
or refreshed temporary ones, an IAM bearer token) is the provider's business; the gateway only
asks a :class:`RequestSigner` for the headers that make the request the connection's.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from urllib.parse import urlsplit


class NotSignable(Exception):
    """The connection's store does not take S3 requests signed for it (Azure Blob, GCS)."""


class RequestSigner(ABC):
    """Signs S3 requests to one connection's store with that connection's credentials.

    ``endpoint`` is the store's base URL (scheme, host and port); requests are addressed
    path-style under it. ``signed_headers`` may block (an STS AssumeRole or an IAM token exchange
    when temporary credentials near expiry), so asynchronous callers run it in a thread; when
    credentials cannot be had it raises :class:`~connections.errors.StorageError`, which says why
    without a secret. ``verify_tls`` is the connection's choice to check the store's certificate;
    whoever sends the signed request honours it for this connection's requests alone.
    """

    def __init__(self, endpoint: str, region: str, *, verify_tls: bool = True) -> None:
        self.endpoint = endpoint.rstrip("/")
        self.region = region
        self.verify_tls = verify_tls

    @abstractmethod
    def signed_headers(self, method: str, url: str, headers: Mapping[str, str]) -> dict[str, str]:
        """``headers`` with what authorizes ``method url`` at the store; the body is not signed."""

    def waits(self) -> bool:
        """Whether :meth:`signed_headers` may wait on the network now (credentials to fetch or near
        expiry); when it may not, an event loop signs at once instead of handing the work to a thread.
        Unless a signer knows better, it may."""
        return True

    @property
    def host(self) -> str:
        return urlsplit(self.endpoint).hostname or ""

    @property
    def port(self) -> int:
        parts = urlsplit(self.endpoint)
        return parts.port or (443 if parts.scheme == "https" else 80)
