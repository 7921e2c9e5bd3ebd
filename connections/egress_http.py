"""HTTP transports that connect only where the outbound address policy allows.

One hook serves every library Spaceport talks to customers' addresses with: a urllib3
connection whose ``_new_conn`` resolves the host through :func:`connections.egress.vet` and
connects to exactly the vetted address. The request keeps its hostname for everything else
(the Host header, TLS SNI and the certificate check), so only the socket's destination
changes. Being per new connection, the check costs one lookup per pooled connection, not one
per request. botocore's pools, a plain urllib3 pool manager and requests sessions (used by
Azure, Google Cloud Storage, IBM's IAM exchange and webhooks) are fitted with it here.
"""

from __future__ import annotations

import socket
import sys
from typing import Any

import requests
from botocore.awsrequest import AWSHTTPConnection, AWSHTTPConnectionPool, AWSHTTPSConnection, AWSHTTPSConnectionPool
from requests.adapters import HTTPAdapter
from urllib3 import HTTPConnectionPool, HTTPSConnectionPool, PoolManager
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError
from urllib3.util.connection import create_connection

from connections.egress import vet


class GuardedConnection(HTTPConnection):
    """Connects to the addresses the policy vetted for its host, in the order they resolved.

    Through a proxy (an HTTPS tunnel), the proxy is the operator's and is connected to as it
    is; the tunnel's target is vetted by name before the proxy is asked to reach it.
    """

    def _new_conn(self) -> socket.socket:
        tunnel_host = getattr(self, "_tunnel_host", None)
        if tunnel_host:
            self._vet(tunnel_host, int(getattr(self, "_tunnel_port", None) or 443))
            return super()._new_conn()
        destinations = self._vet(self._dns_host, self.port)
        failure: OSError | None = None
        for destination in destinations:
            try:
                sock = create_connection(
                    (destination.address, destination.port),
                    self.timeout,
                    source_address=self.source_address,
                    socket_options=self.socket_options,
                )
            except TimeoutError as exc:
                raise ConnectTimeoutError(
                    self, f"Connection to {self.host} timed out. (connect timeout={self.timeout})"
                ) from exc
            except OSError as exc:
                failure = exc
                continue
            sys.audit("http.client.connect", self, self.host, self.port)
            return sock
        raise NewConnectionError(self, f"Failed to establish a new connection: {failure}") from failure

    def _vet(self, host: str, port: int) -> list[Any]:
        try:
            return vet(host, port)
        except socket.gaierror as exc:
            raise NameResolutionError(host, self, exc) from exc


class GuardedHTTPSConnection(GuardedConnection, HTTPSConnection):
    pass


class GuardedAWSConnection(GuardedConnection, AWSHTTPConnection):
    pass


class GuardedAWSHTTPSConnection(GuardedConnection, AWSHTTPSConnection):
    pass


class GuardedHTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = GuardedConnection


class GuardedHTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = GuardedHTTPSConnection


class GuardedAWSConnectionPool(AWSHTTPConnectionPool):
    ConnectionCls = GuardedAWSConnection


class GuardedAWSHTTPSConnectionPool(AWSHTTPSConnectionPool):
    ConnectionCls = GuardedAWSHTTPSConnection


POOLS: dict[str, type[HTTPConnectionPool]] = {"http": GuardedHTTPConnectionPool, "https": GuardedHTTPSConnectionPool}
AWS_POOLS: dict[str, type[HTTPConnectionPool]] = {
    "http": GuardedAWSConnectionPool,
    "https": GuardedAWSHTTPSConnectionPool,
}


def guard_pool_manager(manager: PoolManager) -> PoolManager:
    """Fit a urllib3 pool manager (before its first request) with the guarded connections."""
    manager.pool_classes_by_scheme = POOLS
    return manager


def guard_botocore(client: Any) -> Any:
    """Fit a botocore client (before its first request) with the guarded connections.

    botocore offers no public way to choose its connection classes; it keeps them in its
    HTTP session's ``_pool_classes_by_scheme``, which it also hands to the proxy managers it
    makes later. The tests for each store check that this keeps holding.
    """
    session = client._endpoint.http_session
    session._pool_classes_by_scheme = AWS_POOLS
    session._manager.pool_classes_by_scheme = AWS_POOLS
    return client


class GuardedAdapter(HTTPAdapter):
    """A requests adapter whose pools (direct or through a proxy) use the guarded connections."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        guard_pool_manager(self.poolmanager)

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> PoolManager:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        return guard_pool_manager(manager)


class NoRedirects(requests.Session):
    """A requests session that never follows a redirect: the 3xx answer is the answer.

    A redirect would let the first destination choose the next one.
    """

    def get_redirect_target(self, resp: requests.Response) -> None:
        return None


def guard_session(session: NoRedirects) -> NoRedirects:
    """Mount the guarded adapter on a session that follows no redirects."""
    adapter = GuardedAdapter()
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def guarded_session() -> NoRedirects:
    return guard_session(NoRedirects())
