"""IBM Cloud Object Storage, with HMAC keys (plain S3 signing) or an API key (IAM bearer tokens).

With an API key COS wants ``Authorization: bearer <IAM token>`` instead of a SigV4 signature,
so requests go out unsigned and an event hook adds the header. The token is exchanged once and
again shortly before it expires; neither the key nor the token is ever logged.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import jwt
import requests
from django.conf import settings

from connections.egress_http import guard_botocore, guarded_session
from connections.providers.base import StorageError
from connections.providers.ibm.inputs import ibm_iam_token_url
from connections.providers.ibm.methods import API_KEY
from connections.providers.s3.client import S3Client
from connections.providers.s3.session import s3_config, s3_session
from connections.providers.s3compat.client import StaticKeyClient
from connections.providers.signing import RequestSigner

if TYPE_CHECKING:
    from connections.models import CloudConnection

logger = logging.getLogger(__name__)

GRANT_TYPE = "urn:ibm:params:oauth:grant-type:apikey"
# IBM COS ignores the region in signatures; this one satisfies botocore.
SIGNING_REGION = "us-east-1"
LONGEST_REFRESH_MARGIN = 300.0


class IamTokens:
    """Bearer tokens for one API key: cached, and exchanged again before the current one expires.

    The new token is fetched once a fifth of its lifetime (at most five minutes) remains, so a
    request never leaves with a token that expires on the way.
    """

    def __init__(self, iam_url: str, api_key: str, *, clock: Callable[[], float] = time.time) -> None:
        self.iam_url = iam_url
        self._api_key = api_key
        self.clock = clock
        self._token = ""
        self._refresh_at = 0.0
        self.expires_at = 0.0
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"IamTokens({self.iam_url!r})"

    def due(self) -> bool:
        """Whether the next :meth:`token` exchanges the API key for a new token (a network call)."""
        return not self._token or self.clock() >= self._refresh_at

    def token(self) -> str:
        with self._lock:
            if not self._token or self.clock() >= self._refresh_at:
                self._exchange()
            return self._token

    def _exchange(self) -> None:
        try:
            with guarded_session() as session:
                response = session.post(
                    self.iam_url,
                    data={"grant_type": GRANT_TYPE, "apikey": self._api_key},
                    headers={"Accept": "application/json"},
                    timeout=(settings.SPACEPORT_S3_CONNECT_TIMEOUT, 30),
                    allow_redirects=False,
                )
        except requests.RequestException:
            raise StorageError(
                "unreachable",
                f"Cannot reach IBM Cloud IAM at {self.iam_url}.",
                "Check the IAM token URL and that the Spaceport server may reach it.",
                transient=True,
            ) from None
        if response.status_code in (400, 401, 403):
            raise StorageError(
                "invalid_credentials",
                "IBM Cloud IAM refused the API key.",
                "The API key is wrong, was deleted or is locked: create a new API key for the service ID and "
                "enter it here.",
            )
        if response.status_code != 200:
            raise StorageError(
                "server_error",
                f"IBM Cloud IAM failed to issue a token (HTTP {response.status_code}).",
                "Retry later.",
                transient=response.status_code >= 500 or response.status_code == 429,
            )
        body = response.json()
        now = self.clock()
        if "expires_in" in body:
            lifetime = float(body["expires_in"])
        else:
            lifetime = float(body.get("expiration", now + 3600)) - time.time()
        self._token = str(body["access_token"])
        self.expires_at = now + lifetime
        self._refresh_at = self.expires_at - min(LONGEST_REFRESH_MARGIN, lifetime / 5)
        logger.info("Exchanged an IBM Cloud API key for an IAM token valid for %d s", lifetime)


class BearerSigner(RequestSigner):
    """``Authorization: bearer <IAM token>`` for COS with an API key, the token the client uses too."""

    def __init__(self, endpoint: str, tokens: IamTokens, service_instance_id: str) -> None:
        super().__init__(endpoint, SIGNING_REGION)
        self.tokens = tokens
        self.service_instance_id = service_instance_id

    def __repr__(self) -> str:
        return f"BearerSigner({self.endpoint!r})"

    def waits(self) -> bool:
        return self.tokens.due()

    def signed_headers(self, method: str, url: str, headers: Mapping[str, str]) -> dict[str, str]:
        signed = {**headers, "Authorization": f"bearer {self.tokens.token()}"}
        if self.service_instance_id:
            signed["ibm-service-instance-id"] = self.service_instance_id
        return signed


class ApiKeyClient(S3Client):
    """COS with IAM bearer tokens; the S3 client itself signs nothing."""

    def __init__(self, connection: CloudConnection, s3: Any, tokens: IamTokens) -> None:
        super().__init__(connection, s3, endpoint=connection.config["endpoint"], identity="the service ID")
        self.tokens = tokens
        self.service_instance_id = connection.config.get("service_instance_id", "")
        s3.meta.events.register("before-sign.s3", self._add_bearer)

    def make_signer(self) -> RequestSigner:
        return BearerSigner(self.endpoint, self.tokens, self.service_instance_id)

    def _add_bearer(self, request: Any, **_: Any) -> None:
        request.headers["Authorization"] = f"bearer {self.tokens.token()}"
        if self.service_instance_id:
            request.headers["ibm-service-instance-id"] = self.service_instance_id

    def authenticate(self) -> str:
        token = self.tokens.token()
        try:
            claims = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            claims = {}
        who = claims.get("sub") or claims.get("iam_id") or "the API key's service ID"
        left = int(self.tokens.expires_at - self.tokens.clock())
        return f"Acting as {who} with an IBM Cloud IAM token ({left} s left)."

    def permission_hint(self, permission: str, resource: str) -> str:
        return writer_hint(self.config.get("bucket", ""), permission)


class HmacClient(StaticKeyClient):
    """COS with HMAC keys: S3 signing, but permissions come from IBM Cloud IAM roles, not policies."""

    def permission_hint(self, permission: str, resource: str) -> str:
        return writer_hint(self.config.get("bucket", ""), permission)


def writer_hint(bucket: str, permission: str) -> str:
    return f"Give the service ID the Writer role on bucket '{bucket}' in IBM Cloud IAM (it lacks {permission})."


def allowed_iam_url(iam_url: str) -> str:
    """The API key only ever goes to a token URL the operator allows, whatever the row says; where
    its host points is checked by the guarded session as it connects, not looked up twice."""
    try:
        return ibm_iam_token_url(iam_url or settings.SPACEPORT_IBM_IAM_TOKEN_URLS[0], vetted=False)
    except ValueError:
        raise StorageError(
            "token_url_not_allowed",
            f"The IAM token URL {iam_url} is not one this Spaceport allows; the API key is not sent there.",
            "Choose an IAM token URL from the list on the connection's page and enter the API key again.",
        ) from None


def build_client(connection: CloudConnection, *, clock: Callable[[], float] = time.time) -> S3Client:
    """``clock`` lets a test move time to where the IAM token must be exchanged again."""
    config = connection.config
    secret = connection.secret or {}
    if connection.method == API_KEY:
        tokens = IamTokens(allowed_iam_url(config.get("iam_url") or ""), secret.get("api_key", ""), clock=clock)
        s3 = guard_botocore(
            s3_session().create_client(
                "s3",
                region_name=SIGNING_REGION,
                endpoint_url=config["endpoint"],
                config=s3_config(addressing_style="path", unsigned=True, only_required_checksums=True),
            )
        )
        return ApiKeyClient(connection, s3, tokens)
    return HmacClient.with_keys(connection, region=SIGNING_REGION, identity=f"HMAC key {config['access_key_id']}")
