"""Bodies checked as they stream: the gateway forwards what :meth:`BodyCheck.feed` hands back and
completes the upstream request only with what :meth:`BodyCheck.finish` hands back.

Each check holds back the last piece it was fed. The upstream request cannot complete without
those bytes, so when the body turns out not to be what was signed, ``finish`` raises and the gateway
aborts the upstream request: nothing is stored. At most one fed piece is held, so memory stays
bounded by the size of the reads the server makes, whatever the size of the body.
"""

from __future__ import annotations

import hashlib
import hmac

from gateway.errors import S3Error


class BodyCheck:
    """Passes the body through unchanged, holding back the last piece until :meth:`finish`."""

    def __init__(self, expected_length: int | None = None) -> None:
        self.expected_length = expected_length
        self.received = 0
        self._held = b""

    def feed(self, data: bytes) -> bytes:
        """Take the next bytes of the body as received; answer the bytes that may go upstream now."""
        self.received += len(data)
        if self.expected_length is not None and self.received > self.expected_length:
            raise S3Error("InvalidRequest", "The body is longer than its Content-Length.")
        out = self._accept(data)
        if not out:
            return b""
        released, self._held = self._held, out
        return released

    def finish(self) -> bytes:
        """Check the whole body; answer the held-back bytes that complete it, or raise :class:`S3Error`."""
        if self.expected_length is not None and self.received < self.expected_length:
            raise S3Error(
                "IncompleteBody", "You did not provide the number of bytes specified by the Content-Length HTTP header."
            )
        self._verify()
        released, self._held = self._held, b""
        return released

    def _accept(self, data: bytes) -> bytes:
        return data

    def _verify(self) -> None:
        return None


class Sha256Body(BodyCheck):
    """A body whose SHA-256 the client signed in ``x-amz-content-sha256``."""

    def __init__(self, expected_hex: str, expected_length: int | None = None) -> None:
        super().__init__(expected_length)
        self.expected_hex = expected_hex.lower()
        self._hash = hashlib.sha256()

    def _accept(self, data: bytes) -> bytes:
        self._hash.update(data)
        return data

    def _verify(self) -> None:
        if not hmac.compare_digest(self._hash.hexdigest(), self.expected_hex):
            raise S3Error(
                "XAmzContentSHA256Mismatch",
                "The provided 'x-amz-content-sha256' header does not match what was computed.",
            )
