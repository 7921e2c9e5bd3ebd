"""What the gateway learned about one request, for its access log line and its metrics.

The handler fills a :class:`RequestFacts` as it goes (the request id first, then the key once the
signature checks out, the bucket, the S3 operation, the bytes moved) and stores it on the aiohttp
request under :data:`FACTS`, so code around the handler (logging, metrics, usage counts) reads one
record instead of parsing the request again. It never holds a secret or a signature.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from time import perf_counter

from aiohttp import web


@dataclass
class RequestFacts:
    """One request as the access log and the metrics see it."""

    request_id: str = field(default_factory=lambda: secrets.token_hex(8).upper())
    started: float = field(default_factory=perf_counter)
    access_key_id: str = ""
    bucket: str = ""
    operation: str = ""
    status: int = 0
    error_code: str = ""
    bytes_in: int = 0
    bytes_out: int = 0


FACTS = web.RequestKey("facts", RequestFacts)


def facts_of(request: web.Request) -> RequestFacts:
    """The request's facts, made on first use."""
    found = request.get(FACTS)
    if found is None:
        found = RequestFacts()
        request[FACTS] = found
    return found
