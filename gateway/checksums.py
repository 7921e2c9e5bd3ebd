"""The checksums S3 clients send as trailers (``x-amz-checksum-*``), computed as the body streams.

CRC32 comes from :mod:`zlib`, CRC32C from ``google-crc32c`` (a maintained C implementation),
SHA-1 and SHA-256 from :mod:`hashlib`. CRC64NVME has no maintained pure package without the AWS
runtime, so it is a small table-driven implementation (the reflected polynomial
``0x9a6c9329ac4bc9b5``, all-ones initial value and final xor), pinned by the catalogue's check value.
Each value is sent base64-encoded, big-endian for the CRCs.
"""

from __future__ import annotations

import base64
import hashlib
import zlib
from collections.abc import Callable
from typing import Protocol

import google_crc32c

_CRC64_NVME_POLY = 0x9A6C9329AC4BC9B5
_MASK64 = 0xFFFFFFFFFFFFFFFF


def _crc64_table() -> list[int]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ _CRC64_NVME_POLY if crc & 1 else crc >> 1
        table.append(crc)
    return table


_CRC64_TABLE = _crc64_table()


def crc64nvme(data: bytes, crc: int = 0) -> int:
    """CRC-64/NVME of ``data``, continuing from ``crc`` (a previous result)."""
    table = _CRC64_TABLE
    crc ^= _MASK64
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ _MASK64


class Checksum(Protocol):
    def update(self, data: bytes) -> None: ...

    def digest(self) -> bytes: ...


class _Crc32:
    def __init__(self) -> None:
        self.value = 0

    def update(self, data: bytes) -> None:
        self.value = zlib.crc32(data, self.value)

    def digest(self) -> bytes:
        return self.value.to_bytes(4, "big")


class _Crc32c:
    def __init__(self) -> None:
        self.value = 0

    def update(self, data: bytes) -> None:
        self.value = google_crc32c.extend(self.value, data)

    def digest(self) -> bytes:
        return self.value.to_bytes(4, "big")


class _Crc64Nvme:
    def __init__(self) -> None:
        self.value = 0

    def update(self, data: bytes) -> None:
        self.value = crc64nvme(data, self.value)

    def digest(self) -> bytes:
        return self.value.to_bytes(8, "big")


ALGORITHMS: dict[str, Callable[[], Checksum]] = {
    "x-amz-checksum-crc32": _Crc32,
    "x-amz-checksum-crc32c": _Crc32c,
    "x-amz-checksum-crc64nvme": _Crc64Nvme,
    "x-amz-checksum-sha1": hashlib.sha1,
    "x-amz-checksum-sha256": hashlib.sha256,
}


def new_checksum(header: str) -> Checksum:
    """A running checksum for the trailer ``header`` (one of :data:`ALGORITHMS`)."""
    return ALGORITHMS[header]()


def encoded(checksum: Checksum) -> str:
    return base64.b64encode(checksum.digest()).decode()
