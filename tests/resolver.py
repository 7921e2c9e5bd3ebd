"""A stand-in for DNS, for the names the address-policy tests need: no DNS server runs here.

Only the one name under test is answered from the list; every other name goes to the real
resolver, so the emulators on loopback stay reachable.
"""

from __future__ import annotations

import socket
from collections.abc import Sequence
from typing import Any

import pytest

Answer = str | tuple[str, ...]


def resolving(monkeypatch: pytest.MonkeyPatch, name: str, answers: Sequence[Answer]) -> list[Answer]:
    """Make ``name`` resolve to each of ``answers`` in turn (the last one for good); returns the lookups.

    An answer is one address, or a tuple of addresses given together (a name with several records).
    """
    real = socket.getaddrinfo
    lookups: list[Answer] = []

    def resolve(host: str, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host != name:
            return real(host, port, *args, **kwargs)
        answer = answers[min(len(lookups), len(answers) - 1)]
        lookups.append(answer)
        addresses = (answer,) if isinstance(answer, str) else answer
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port)) for address in addresses]

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    return lookups
