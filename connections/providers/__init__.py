"""One module per provider, each implementing :class:`connections.providers.base.StorageClient`."""

from __future__ import annotations

from connections.providers.registry import client_for

__all__ = ["client_for"]
