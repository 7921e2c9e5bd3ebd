"""The ``aws-chunked`` body of a streaming upload, decoded and checked as it arrives.

Each chunk is ``<hex size>[;chunk-signature=<sig>]\\r\\n<data>\\r\\n``; a chunk of size 0 ends the
data, followed (in the trailer modes) by trailer lines such as ``x-amz-checksum-crc32:<base64>`` and,
when signed, ``x-amz-trailer-signature:<sig>``, then an empty line. In the signed modes every chunk's
signature chains from the previous one, starting at the request's own (seed) signature, so chunks
can be neither altered, dropped nor reordered.

Memory stays bounded: only a header or trailer line is ever buffered (at most :data:`MAX_LINE`
bytes), the data itself is hashed and handed on as it streams. A chunk's signature can only be
checked at its end, so a chunk's data reaches the upstream request before its signature is known to
be good; the upstream request is never completed until the whole body checked out (see
:mod:`gateway.payload`), and chunks are limited to :data:`MAX_CHUNK` bytes so that little unchecked
data is ever in flight (SDKs send 64 KiB to 8 MiB chunks).
"""

from __future__ import annotations

import hashlib
import hmac

from gateway.checksums import ALGORITHMS, Checksum, encoded, new_checksum
from gateway.errors import S3Error
from gateway.payload import BodyCheck

MAX_LINE = 4096
MAX_CHUNK = 16 * 1024 * 1024
MAX_TRAILER = 16 * 1024
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()

_HEADER, _DATA, _DATA_END, _TRAILER, _END, _DONE = range(6)


def _malformed(message: str) -> S3Error:
    return S3Error("IncompleteBody", f"The aws-chunked body is malformed: {message}.")


class ChunkedBody(BodyCheck):
    """Decodes an aws-chunked body; ``feed`` takes the encoded bytes and answers decoded ones.

    ``key``, ``amz_date``, ``scope`` and ``seed`` come from the verified request and are needed only
    in the signed modes; ``trailer`` names the checksum trailer announced in ``x-amz-trailer``
    (trailer modes only).
    """

    def __init__(
        self,
        *,
        signed: bool,
        trailer: str | None,
        decoded_length: int,
        key: bytes,
        amz_date: str,
        scope: str,
        seed: str,
        expected_length: int | None = None,
    ) -> None:
        super().__init__(expected_length)
        self.signed = signed
        self.trailer = trailer
        self.decoded_length = decoded_length
        self._key = key
        self._prefix = f"\n{amz_date}\n{scope}\n"
        self._previous = seed
        self._state = _HEADER
        self._buffer = bytearray()
        self._remaining = 0
        self._chunk_signature = ""
        self._chunk_hash = hashlib.sha256()
        self._checksum: Checksum | None = new_checksum(trailer) if trailer else None
        self._decoded = 0
        self._trailers: list[tuple[str, str]] = []
        self._trailer_bytes = 0

    def _accept(self, data: bytes) -> bytes:
        out = bytearray()
        # At most a line's worth of bytes is moved into the buffer at a time, so what a line hands
        # back when data starts is short, and the stack never holds more than two views.
        stack = [memoryview(data)]
        while stack:
            view = stack.pop()
            while view:
                if self._state == _DATA:
                    piece = view[: self._remaining]
                    view = view[len(piece) :]
                    self._take(piece, out)
                    continue
                if self._state == _DONE:
                    raise _malformed("bytes follow the end of the body")
                self._buffer += view[: MAX_LINE + 2]
                view = view[MAX_LINE + 2 :]
                leftover = self._lines()
                if leftover:
                    stack.append(view)
                    view = memoryview(bytes(leftover))
        return bytes(out)

    def _take(self, piece: memoryview, out: bytearray) -> None:
        self._remaining -= len(piece)
        self._decoded += len(piece)
        if self._decoded > self.decoded_length:
            raise _malformed("more data than x-amz-decoded-content-length")
        if self.signed:
            self._chunk_hash.update(piece)
        if self._checksum is not None:
            self._checksum.update(bytes(piece))
        out += piece
        if self._remaining == 0:
            self._state = _DATA_END

    def _lines(self) -> bytearray | None:
        """Consume the complete lines in the buffer; answer what follows when data starts."""
        while self._state not in (_DATA, _DONE):
            end = self._buffer.find(b"\r\n")
            if end < 0:
                if len(self._buffer) > MAX_LINE:
                    raise _malformed(f"a line is longer than {MAX_LINE} bytes")
                return None
            line = bytes(self._buffer[:end])
            del self._buffer[: end + 2]
            self._line(line)
        rest, self._buffer = self._buffer, bytearray()
        if self._state == _DONE and rest:
            raise _malformed("bytes follow the end of the body")
        return rest

    def _line(self, line: bytes) -> None:
        if self._state == _DATA_END:
            if line:
                raise _malformed("a chunk is longer than its size")
            self._end_chunk()
            self._state = _HEADER
        elif self._state == _HEADER:
            self._chunk_header(line)
        elif self._state == _TRAILER:
            self._trailer_line(line)
        elif self._state == _END:
            if line:
                raise _malformed("the final chunk is followed by data")
            self._state = _DONE

    def _chunk_header(self, line: bytes) -> None:
        text = line.decode("ascii", "replace")
        size_text, _, extension = text.partition(";")
        if not size_text or len(size_text) > 8 or any(c not in "0123456789abcdefABCDEF" for c in size_text):
            raise _malformed("a chunk size is not a hexadecimal number")
        size = int(size_text, 16)
        if size > MAX_CHUNK:
            raise _malformed(f"a chunk is larger than {MAX_CHUNK} bytes")
        if self.signed:
            name, _, signature = extension.partition("=")
            if name != "chunk-signature" or len(signature) != 64:
                raise S3Error("SignatureDoesNotMatch", "A chunk of the body carries no valid chunk-signature.")
            self._chunk_signature = signature
        elif extension:
            raise _malformed("an unsigned chunk carries an extension")
        self._remaining = size
        self._chunk_hash = hashlib.sha256()
        if size:
            self._state = _DATA
            return
        if self.signed:
            self._end_chunk()
        if self._decoded != self.decoded_length:
            raise S3Error("IncompleteBody", "The body is shorter than its x-amz-decoded-content-length.")
        self._state = _TRAILER if self.trailer else _END

    def _end_chunk(self) -> None:
        if not self.signed:
            return
        string_to_sign = (
            f"AWS4-HMAC-SHA256-PAYLOAD{self._prefix}{self._previous}\n{EMPTY_SHA256}\n{self._chunk_hash.hexdigest()}"
        )
        self._previous = self._check(string_to_sign, self._chunk_signature)

    def _check(self, string_to_sign: str, given: str) -> str:
        expected = hmac.new(self._key, string_to_sign.encode(), "sha256").hexdigest()
        if not hmac.compare_digest(expected.encode(), given.encode()):
            raise S3Error("SignatureDoesNotMatch", "A chunk signature of the body does not match.")
        return expected

    def _trailer_line(self, line: bytes) -> None:
        self._trailer_bytes += len(line) + 2
        if self._trailer_bytes > MAX_TRAILER:
            raise _malformed("the trailers are too long")
        if line:
            name, sep, value = line.decode("ascii", "replace").partition(":")
            if not sep:
                raise _malformed("a trailer line has no colon")
            self._trailers.append((name.strip().lower(), value.strip()))
            return
        self._finish_trailers()
        self._state = _DONE

    def _finish_trailers(self) -> None:
        trailers = dict(self._trailers)
        if len(trailers) != len(self._trailers):
            raise _malformed("a trailer is repeated")
        signature = trailers.pop("x-amz-trailer-signature", None)
        if set(trailers) != {self.trailer}:
            raise S3Error("InvalidRequest", f"The body's trailers must be exactly the announced {self.trailer}.")
        if self.signed:
            if signature is None:
                raise S3Error("SignatureDoesNotMatch", "The trailers of the body are not signed.")
            lines = "".join(f"{name}:{value}\n" for name, value in self._trailers if name != "x-amz-trailer-signature")
            digest = hashlib.sha256(lines.encode()).hexdigest()
            self._check(f"AWS4-HMAC-SHA256-TRAILER{self._prefix}{self._previous}\n{digest}", signature)
        elif signature is not None:
            raise _malformed("an unsigned body carries a trailer signature")
        assert self._checksum is not None and self.trailer is not None
        if not hmac.compare_digest(encoded(self._checksum), trailers[self.trailer]):
            algorithm = self.trailer.removeprefix("x-amz-checksum-").upper()
            raise S3Error("BadDigest", f"The {algorithm} you specified did not match the calculated checksum.")

    def _verify(self) -> None:
        if self._state != _DONE:
            raise S3Error("IncompleteBody", "The aws-chunked body ended before its final chunk.")


def trailer_algorithm(header: str | None) -> str:
    """The one checksum trailer ``x-amz-trailer`` announces, refused unless it is one S3 knows."""
    name = (header or "").strip().lower()
    if name not in ALGORITHMS:
        raise S3Error(
            "InvalidRequest",
            "x-amz-trailer must name one x-amz-checksum-* header (crc32, crc32c, crc64nvme, sha1 or sha256).",
        )
    return name
