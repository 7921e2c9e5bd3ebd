"""Encryption of secrets at rest with the keys from ``settings.ENCRYPTION_KEYS``.

The first key encrypts, every listed key decrypts: an operator rotates by putting a new key in
front, running ``manage.py rotate_encryption_keys``, and only then dropping the old key.
Messages never contain the plaintext, the token or a key, so they are safe to log.
"""

from __future__ import annotations

from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class DecryptionError(Exception):
    """A stored secret could not be decrypted with any configured key.

    This is an operator problem (a key was dropped too early, or the wrong key is configured),
    not bad input, so it is kept apart from the request-level domain errors.
    """


@lru_cache(maxsize=8)
def _fernets(keys: tuple[str, ...]) -> tuple[Fernet, ...]:
    if not keys:
        raise ImproperlyConfigured(
            "ENCRYPTION_KEYS is empty; set SPACEPORT_ENCRYPTION_KEYS to at least one Fernet key."
        )
    fernets = []
    for position, key in enumerate(keys, start=1):
        try:
            fernets.append(Fernet(key))
        except (ValueError, TypeError):
            raise ImproperlyConfigured(
                f"Encryption key number {position} in SPACEPORT_ENCRYPTION_KEYS is not a valid Fernet key "
                "(32 url-safe base64-encoded bytes)."
            ) from None
    return tuple(fernets)


def _configured() -> tuple[Fernet, ...]:
    """The Fernets for the current settings, rebuilt only when the key list changes."""
    return _fernets(tuple(settings.ENCRYPTION_KEYS))


def _multi() -> MultiFernet:
    return MultiFernet(list(_configured()))


def encrypt(plaintext: str) -> str:
    """Encrypt ``plaintext`` under the first configured key."""
    return _multi().encrypt(plaintext.encode("utf-8")).decode("ascii")


def decrypt(token: str) -> str:
    """Decrypt ``token`` with whichever configured key made it."""
    try:
        return _multi().decrypt(token.encode("ascii")).decode("utf-8")
    except (InvalidToken, UnicodeError):
        raise DecryptionError(
            "A stored secret cannot be decrypted with any key in SPACEPORT_ENCRYPTION_KEYS; "
            "the key that encrypted it may have been removed before rotation finished."
        ) from None


def is_current(token: str) -> bool:
    """Whether ``token`` is already encrypted under the first key, so rotation can leave it alone."""
    try:
        _configured()[0].decrypt(token.encode("ascii"))
    except (InvalidToken, UnicodeError):
        return False
    return True


def reencrypt(token: str) -> str:
    """Return ``token``'s plaintext encrypted under the first key, for key rotation."""
    try:
        return _multi().rotate(token.encode("ascii")).decode("ascii")
    except (InvalidToken, UnicodeError):
        raise DecryptionError(
            "A stored secret cannot be re-encrypted because no key in SPACEPORT_ENCRYPTION_KEYS decrypts it."
        ) from None
