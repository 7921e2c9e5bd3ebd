"""Checking a request's AWS Signature Version 4, header-signed or presigned.

The API, for the gateway's server::

    verified = verify(method, raw_path, raw_query, headers, secret_for, now)
    check = verified.body_check(content_length)
    for piece in body: upstream.send(check.feed(piece))
    upstream.send(check.finish())   # raises S3Error before the upstream request can complete

:func:`verify` raises :class:`~gateway.errors.S3Error` with the code AWS answers for the same
fault. ``secret_for`` answers the signing secret of an access key id, or ``None`` for a key that
may not sign (unknown, inactive, expired); it may instead raise :class:`S3Error` itself to name
the reason. Nothing of the request is skipped for any query parameter or header: ``uploadId=``
and ``Expect: 100-continue`` are checked like everything else.

Bodies: a hex ``x-amz-content-sha256`` is checked by :class:`~gateway.payload.Sha256Body`; the
``STREAMING-*`` modes by :class:`~gateway.chunked.ChunkedBody`, which decodes aws-chunked bodies,
checks every chunk signature and verifies the checksum trailer.

Rules beyond the letter of AWS's page, as S3 enforces them: every ``x-amz-*`` header the request
carries must be signed (an unsigned one could change what the request does without the signer
agreeing), and a header-signed request must sign ``host`` and ``x-amz-content-sha256``.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.conf import settings

from connections.storage import sigv4_steps
from gateway.canonical import (
    Headers,
    canonical_query,
    canonical_request,
    header_values,
    query_pairs,
)
from gateway.chunked import ChunkedBody, trailer_algorithm
from gateway.errors import S3Error
from gateway.payload import BodyCheck, Sha256Body

ALGORITHM = sigv4_steps.ALGORITHM
SERVICE = sigv4_steps.SERVICE
MAX_SKEW = timedelta(minutes=15)
MAX_EXPIRES_SECONDS = 7 * 24 * 3600
UNSIGNED = "UNSIGNED-PAYLOAD"
STREAMING_SIGNED = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
STREAMING_SIGNED_TRAILER = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
STREAMING_UNSIGNED_TRAILER = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
STREAMING = (STREAMING_SIGNED, STREAMING_SIGNED_TRAILER, STREAMING_UNSIGNED_TRAILER)

_HEX64 = re.compile(r"^[0-9a-fA-F]{64}$")
_AMZ_DATE = re.compile(r"(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z")

SecretLookup = Callable[[str], "str | None"]


def region() -> str:
    """The region clients must sign for (``SPACEPORT_S3_GATEWAY_REGION``)."""
    return str(getattr(settings, "SPACEPORT_S3_GATEWAY_REGION", "us-east-1"))


@dataclass(frozen=True)
class VerifiedRequest:
    """A request whose signature matched: who signed it, and what is needed to check its body."""

    access_key_id: str
    presigned: bool
    payload: str  # x-amz-content-sha256: UNSIGNED-PAYLOAD, a hex digest or a STREAMING-* mode
    amz_date: str
    scope: str
    seed_signature: str = field(repr=False)
    key: bytes = field(repr=False)
    headers: dict[str, str] = field(repr=False, default_factory=dict)

    def body_check(self, content_length: int | None) -> BodyCheck:
        """The check the body must pass as it streams (see :mod:`gateway.payload`)."""
        if self.payload == UNSIGNED:
            return BodyCheck(content_length)
        if self.payload in STREAMING:
            return self._chunked(content_length)
        return Sha256Body(self.payload, content_length)

    def _chunked(self, content_length: int | None) -> ChunkedBody:
        decoded = self.headers.get("x-amz-decoded-content-length", "")
        if not decoded.isdigit():
            raise S3Error("MissingContentLength", "An aws-chunked body needs x-amz-decoded-content-length.")
        trailer = None
        if self.payload in (STREAMING_SIGNED_TRAILER, STREAMING_UNSIGNED_TRAILER):
            trailer = trailer_algorithm(self.headers.get("x-amz-trailer"))
        return ChunkedBody(
            signed=self.payload != STREAMING_UNSIGNED_TRAILER,
            trailer=trailer,
            decoded_length=int(decoded),
            key=self.key,
            amz_date=self.amz_date,
            scope=self.scope,
            seed=self.seed_signature,
            expected_length=content_length,
        )


@dataclass(frozen=True)
class _Credential:
    access_key_id: str
    date: str
    region: str
    service: str

    @property
    def scope(self) -> str:
        return f"{self.date}/{self.region}/{self.service}/aws4_request"


def _credential(text: str, code: str) -> _Credential:
    parts = text.split("/")
    if len(parts) != 5 or parts[4] != "aws4_request" or not all(parts):
        raise S3Error(
            code, f"The credential '{text}' is malformed; expecting '<key>/<YYYYMMDD>/<region>/s3/aws4_request'."
        )
    credential = _Credential(parts[0], parts[1], parts[2], parts[3])
    if credential.region != region():
        raise S3Error(
            code,
            f"The authorization header is malformed; the region '{credential.region}' is wrong; expecting '{region()}'",
        )
    if credential.service != SERVICE:
        raise S3Error(code, f"The credential names the service '{credential.service}'; expecting 's3'.")
    return credential


def _moment(text: str, code: str) -> datetime:
    parts = _AMZ_DATE.fullmatch(text)
    try:
        if parts is None:
            raise ValueError(text)
        year, month, day, hour, minute, second = map(int, parts.groups())
        return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except ValueError:
        raise S3Error(code, f"The date '{text}' is not in the ISO 8601 basic format YYYYMMDD'T'HHMMSS'Z'.") from None


def _refuse_other_schemes(authorization: str | None, query: dict[str, str]) -> None:
    if authorization is not None and authorization.startswith("AWS "):
        raise S3Error(
            "InvalidRequest",
            "The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.",
        )
    if "Signature" in query or "AWSAccessKeyId" in query:
        raise S3Error(
            "InvalidRequest", "Query-string authentication version 2 is not supported. Please use AWS4-HMAC-SHA256."
        )
    if authorization is None and "X-Amz-Algorithm" not in query:
        raise S3Error("AccessDenied", "Anonymous requests are refused: sign the request with a Spaceport access key.")
    if authorization is not None and "X-Amz-Algorithm" in query:
        raise S3Error(
            "InvalidArgument",
            "Only one auth mechanism allowed: the X-Amz-Algorithm query parameter or the Authorization header.",
        )


def _secret(secret_for: SecretLookup, access_key_id: str) -> str:
    secret = secret_for(access_key_id)
    if secret is None:
        raise S3Error("InvalidAccessKeyId", "The access key id you provided does not exist in our records.")
    return secret


def _unsigned_amz_headers(headers: dict[str, str], signed: list[str]) -> None:
    missing = sorted(name for name in headers if name.startswith("x-amz-") and name not in signed)
    if missing:
        raise S3Error(
            "AccessDenied", f"There were headers present in the request which were not signed: {', '.join(missing)}"
        )


def verify(
    method: str,
    raw_path: str,
    raw_query: str,
    headers: Headers,
    secret_for: SecretLookup,
    now: datetime | None = None,
) -> VerifiedRequest:
    """Check the signature of a request as it arrived: ``raw_path`` and ``raw_query`` still encoded."""
    values = header_values(headers)
    pairs = query_pairs(raw_query)
    query = dict(pairs)
    authorization = values.get("authorization")
    _refuse_other_schemes(authorization, query)
    moment = now or datetime.now(UTC)
    if authorization is not None:
        return _verify_header(method, raw_path, pairs, values, authorization, secret_for, moment)
    return _verify_query(method, raw_path, pairs, query, values, secret_for, moment)


def _verify_header(
    method: str,
    raw_path: str,
    pairs: list[tuple[str, str]],
    values: dict[str, str],
    authorization: str,
    secret_for: SecretLookup,
    now: datetime,
) -> VerifiedRequest:
    code = "AuthorizationHeaderMalformed"
    algorithm, _, rest = authorization.partition(" ")
    if algorithm != ALGORITHM:
        raise S3Error("InvalidArgument", f"Unsupported Authorization Type '{algorithm}'.")
    fields: dict[str, str] = {}
    for part in rest.split(","):
        name, sep, value = part.strip().partition("=")
        if not sep or name in fields:
            raise S3Error(code, "The authorization header is malformed.")
        fields[name] = value
    if set(fields) != {"Credential", "SignedHeaders", "Signature"}:
        raise S3Error(code, "The authorization header needs Credential, SignedHeaders and Signature, and nothing else.")
    credential = _credential(fields["Credential"], code)
    amz_date = values.get("x-amz-date")
    if amz_date is None:
        raise S3Error("AccessDenied", "AWS authentication requires a valid X-Amz-Date header.")
    moment = _moment(amz_date, code)
    if amz_date[:8] != credential.date:
        raise S3Error(code, "Invalid credential date. Date is not the same as X-Amz-Date.")
    if abs(now - moment) > MAX_SKEW:
        raise S3Error(
            "RequestTimeTooSkewed", "The difference between the request time and the current time is too large."
        )
    signed = fields["SignedHeaders"].split(";")
    if "host" not in signed or "x-amz-content-sha256" not in signed:
        raise S3Error("AccessDenied", "The signed headers must include host and x-amz-content-sha256.")
    _unsigned_amz_headers(values, signed)
    payload = values.get("x-amz-content-sha256", "")
    _check_payload_mode(payload)
    secret = _secret(secret_for, credential.access_key_id)
    canonical = canonical_request(method, raw_path, canonical_query(pairs), values, signed, payload)
    return _match(credential, amz_date, canonical, fields["Signature"], secret, payload, values, presigned=False)


def _check_payload_mode(payload: str) -> None:
    if payload in (UNSIGNED, *STREAMING) or _HEX64.match(payload):
        return
    raise S3Error(
        "InvalidArgument",
        "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, a STREAMING-* mode, or a valid sha256 value.",
    )


def _verify_query(
    method: str,
    raw_path: str,
    pairs: list[tuple[str, str]],
    query: dict[str, str],
    values: dict[str, str],
    secret_for: SecretLookup,
    now: datetime,
) -> VerifiedRequest:
    code = "AuthorizationQueryParametersError"
    needed = (
        "X-Amz-Algorithm",
        "X-Amz-Credential",
        "X-Amz-Date",
        "X-Amz-Expires",
        "X-Amz-SignedHeaders",
        "X-Amz-Signature",
    )
    if any(name not in query for name in needed):
        raise S3Error(code, f"Query-string authentication version 4 requires the {', '.join(needed)} parameters.")
    if sum(1 for name, _ in pairs if name in needed) != len(needed):
        raise S3Error(code, "Each X-Amz-* authentication parameter may appear only once.")
    if query["X-Amz-Algorithm"] != ALGORITHM:
        raise S3Error(code, 'X-Amz-Algorithm only supports "AWS4-HMAC-SHA256".')
    credential = _credential(query["X-Amz-Credential"], code)
    amz_date = query["X-Amz-Date"]
    moment = _moment(amz_date, code)
    if amz_date[:8] != credential.date:
        raise S3Error(code, "Invalid credential date. Date is not the same as X-Amz-Date.")
    expires_text = query["X-Amz-Expires"]
    if not expires_text.isdigit() or int(expires_text) > MAX_EXPIRES_SECONDS:
        raise S3Error(code, "X-Amz-Expires must be a whole number of seconds, at most 604800 (seven days).")
    if moment - now > MAX_SKEW:
        raise S3Error("AccessDenied", "Request is not valid yet.")
    if now > moment + timedelta(seconds=int(expires_text)):
        raise S3Error("AccessDenied", "Request has expired.")
    signed = query["X-Amz-SignedHeaders"].split(";")
    if "host" not in signed:
        raise S3Error("AccessDenied", "The signed headers must include host.")
    _unsigned_amz_headers(values, signed)
    payload = values.get("x-amz-content-sha256", UNSIGNED)
    _check_payload_mode(payload)
    if payload in STREAMING:
        raise S3Error("InvalidRequest", "A presigned URL cannot carry a STREAMING-* body.")
    secret = _secret(secret_for, credential.access_key_id)
    canonical = canonical_request(
        method, raw_path, canonical_query(pairs, leave_out="X-Amz-Signature"), values, signed, payload
    )
    return _match(credential, amz_date, canonical, query["X-Amz-Signature"], secret, payload, values, presigned=True)


def _match(
    credential: _Credential,
    amz_date: str,
    canonical: str,
    given: str,
    secret: str,
    payload: str,
    values: dict[str, str],
    *,
    presigned: bool,
) -> VerifiedRequest:
    key = sigv4_steps.signing_key(secret, credential.date, credential.region, credential.service)
    expected = sigv4_steps.signature(key, sigv4_steps.string_to_sign(amz_date, credential.scope, canonical))
    if not hmac.compare_digest(expected.encode(), given.encode()):
        raise S3Error(
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided. "
            "Check your key and signing method.",
        )
    return VerifiedRequest(
        access_key_id=credential.access_key_id,
        presigned=presigned,
        payload=payload if _HEX64.match(payload) is None else payload.lower(),
        amz_date=amz_date,
        scope=credential.scope,
        seed_signature=expected,
        key=key,
        headers=values,
    )
