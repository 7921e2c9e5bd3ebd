"""The error every storage operation speaks, kept apart so that the outbound address policy
(which has no provider to know about) can raise one too."""

from __future__ import annotations


class StorageError(Exception):
    """A failed storage operation, with what to do about it.

    ``code`` is stable for programs (``access_denied``, ``no_such_bucket``, ``clock_skew``,
    ``unreachable``, ``invalid_credentials``, ``trust_policy``, ``not_found``, ...);
    ``hint`` tells a person what to fix; ``transient`` says whether retrying may help.
    Messages never contain secrets.
    """

    def __init__(self, code: str, message: str, hint: str = "", *, transient: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.hint = hint
        self.transient = transient
