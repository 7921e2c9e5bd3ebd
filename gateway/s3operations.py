"""Which S3 operation a request is, from one table: its name as AWS names it, the action the policy
engine is asked, whether that is asked on the bucket or on ``bucket/key``, and the query parameters
it takes.

A request the table does not know, or one carrying a query parameter its operation does not take
(``?acl``, ``?tagging``, ``?policy``, ``?lifecycle``, ``?versioning`` ...), answers ``NotImplemented``:
the gateway never passes an operation it has not been taught to authorize on to the store.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import quote

from aiohttp import web

from gateway.errors import S3Error
from gateway.facts import RequestFacts

SERVICE, BUCKET, OBJECT = "service", "bucket", "object"
# The query parameters that pick an operation, most specific first.
MARKERS = ("uploads", "uploadId", "delete", "location", "list-type")

LIST_V2 = frozenset(
    {
        "list-type",
        "prefix",
        "delimiter",
        "max-keys",
        "continuation-token",
        "start-after",
        "fetch-owner",
        "encoding-type",
    }
)
LIST_V1 = frozenset({"prefix", "delimiter", "marker", "max-keys", "encoding-type"})
LIST_UPLOADS = frozenset(
    {"uploads", "prefix", "delimiter", "key-marker", "upload-id-marker", "max-uploads", "encoding-type"}
)
RESPONSE_OVERRIDES = frozenset(
    {
        "response-content-type",
        "response-content-language",
        "response-expires",
        "response-cache-control",
        "response-content-disposition",
        "response-content-encoding",
    }
)
PART = frozenset({"partNumber", "uploadId"})
LIST_PARTS = frozenset({"uploadId", "max-parts", "part-number-marker", "encoding-type"})
VERSIONED = {"s3:GetObject": "s3:GetObjectVersion", "s3:DeleteObject": "s3:DeleteObjectVersion"}


@dataclass(frozen=True)
class Operation:
    """An S3 operation the gateway serves; ``action`` is ``None`` when it is decided per key or per bucket."""

    name: str
    action: str | None
    on_object: bool
    params: frozenset[str] = field(default_factory=frozenset)


def _op(name: str, action: str | None, target: str, params: frozenset[str] | set[str] = frozenset()) -> Operation:
    return Operation(name, action, target == OBJECT, frozenset(params))


# (target, method, marker, copy source given) -> operation
TABLE: dict[tuple[str, str, str, bool], Operation] = {
    (SERVICE, "GET", "", False): _op("ListBuckets", None, SERVICE),
    (BUCKET, "GET", "list-type", False): _op("ListObjectsV2", "s3:ListBucket", BUCKET, LIST_V2),
    (BUCKET, "GET", "", False): _op("ListObjects", "s3:ListBucket", BUCKET, LIST_V1),
    (BUCKET, "GET", "uploads", False): _op(
        "ListMultipartUploads", "s3:ListBucketMultipartUploads", BUCKET, LIST_UPLOADS
    ),
    (BUCKET, "GET", "location", False): _op("GetBucketLocation", "s3:GetBucketLocation", BUCKET, {"location"}),
    (BUCKET, "HEAD", "", False): _op("HeadBucket", "s3:ListBucket", BUCKET),
    (BUCKET, "POST", "delete", False): _op("DeleteObjects", None, BUCKET, {"delete"}),
    (OBJECT, "GET", "", False): _op(
        "GetObject", "s3:GetObject", OBJECT, RESPONSE_OVERRIDES | {"versionId", "partNumber"}
    ),
    (OBJECT, "HEAD", "", False): _op(
        "HeadObject", "s3:GetObject", OBJECT, RESPONSE_OVERRIDES | {"versionId", "partNumber"}
    ),
    (OBJECT, "PUT", "", False): _op("PutObject", "s3:PutObject", OBJECT),
    (OBJECT, "PUT", "", True): _op("CopyObject", "s3:PutObject", OBJECT),
    (OBJECT, "DELETE", "", False): _op("DeleteObject", "s3:DeleteObject", OBJECT, {"versionId"}),
    (OBJECT, "POST", "uploads", False): _op("CreateMultipartUpload", "s3:PutObject", OBJECT, {"uploads"}),
    (OBJECT, "PUT", "uploadId", False): _op("UploadPart", "s3:PutObject", OBJECT, PART),
    (OBJECT, "PUT", "uploadId", True): _op("UploadPartCopy", "s3:PutObject", OBJECT, PART),
    (OBJECT, "POST", "uploadId", False): _op("CompleteMultipartUpload", "s3:PutObject", OBJECT, {"uploadId"}),
    (OBJECT, "DELETE", "uploadId", False): _op("AbortMultipartUpload", "s3:AbortMultipartUpload", OBJECT, {"uploadId"}),
    (OBJECT, "GET", "uploadId", False): _op("ListParts", "s3:ListMultipartUploadParts", OBJECT, LIST_PARTS),
}


def classify(method: str, bucket: str, key: str, query: dict[str, str], headers: Any) -> Operation:
    """The operation a request asks for, or :class:`S3Error` ``NotImplemented`` naming what is not served."""
    target = SERVICE if not bucket else BUCKET if not key else OBJECT
    marker = next((name for name in MARKERS if name in query), "")
    copying = method == "PUT" and target == OBJECT and "x-amz-copy-source" in headers
    found = TABLE.get((target, method, marker, copying))
    if found is None:
        what = f"?{marker}" if marker else ""
        raise S3Error("NotImplemented", f"{method} on a {target}{what} is not served by the gateway.")
    extra = sorted(name for name in query if name not in found.params)
    if extra:
        raise S3Error(
            "NotImplemented",
            f"{found.name} with ?{extra[0]} is not served by the gateway (Spaceport grants and policies decide "
            "access; bucket configuration is the administrators').",
        )
    if "versionId" in query and found.action in VERSIONED:
        return replace(found, action=VERSIONED[found.action])
    return found


@dataclass
class Call:
    """One request as the operation families see it, once verified and classified."""

    request: web.Request
    operation: Operation
    access_key_id: str
    bucket: str
    key: str
    query: dict[str, str]
    verified: Any
    facts: RequestFacts
    space: Any = None

    @property
    def resource(self) -> str:
        """What the policy engine is asked about: ``bucket`` or ``bucket/key``."""
        return f"{self.bucket}/{self.key}" if self.operation.on_object else self.bucket

    def location(self, key: str) -> str:
        """The gateway's own URL of ``key`` in this bucket, for ``Location`` answers."""
        host = self.request.headers.get("host", "")
        base = f"{self.request.scheme}://{host}"
        if host.lower().startswith(f"{self.bucket}."):
            return f"{base}/{quote(key, safe='/~')}"
        return f"{base}/{self.bucket}/{quote(key, safe='/~')}"
