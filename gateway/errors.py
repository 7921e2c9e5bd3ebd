"""S3 errors as S3 clients expect them: an XML body with a code, a message and a request id.

Clients branch on the code (boto3 retries ``RequestTimeTooSkewed`` after correcting its clock, for
example), so each refusal names the code AWS itself would answer, with the HTTP status AWS uses.
"""

from __future__ import annotations

from xml.sax.saxutils import escape

STATUS = {
    "AccessDenied": 403,
    "SignatureDoesNotMatch": 403,
    "RequestTimeTooSkewed": 403,
    "InvalidAccessKeyId": 403,
    "ExpiredToken": 400,
    "AuthorizationHeaderMalformed": 400,
    "AuthorizationQueryParametersError": 400,
    "XAmzContentSHA256Mismatch": 400,
    "NoSuchBucket": 404,
    "NotImplemented": 501,
    "InvalidRequest": 400,
    "IncompleteBody": 400,
    "MissingContentLength": 411,
    "BadDigest": 400,
    "InvalidArgument": 400,
    "InvalidDigest": 400,
    "MalformedXML": 400,
    "NoSuchUpload": 404,
    "EntityTooLarge": 400,
    # S3's list of error codes has none for an Expect it cannot meet: the HTTP status's own name.
    "ExpectationFailed": 417,
}


class S3Error(Exception):
    """A refusal to answer as S3 does; ``status`` defaults to the one AWS uses for ``code``."""

    def __init__(self, code: str, message: str, status: int | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status if status is not None else STATUS.get(code, 400)

    def to_xml(self, resource: str = "", request_id: str = "") -> bytes:
        """The error document, ``<Error>`` with Code, Message, Resource and RequestId."""
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>{escape(self.code)}</Code><Message>{escape(self.message)}</Message>"
            f"<Resource>{escape(resource)}</Resource><RequestId>{escape(request_id)}</RequestId></Error>"
        ).encode()
