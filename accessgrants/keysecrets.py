"""The secret of an access key, for checking the signature of a request made with it.

This is the one place a key's secret is read after it was handed out: the S3 gateway needs it to
recompute each request's signature (SigV4 is an HMAC, so the secret cannot be kept hashed). Whether
the key may sign at all comes from its snapshot (:mod:`accessgrants.keyprincipals`), checked at
every call, so a key that is deactivated, rotated past its grace or expired is refused at once; the
secret itself is kept in this process under the access snapshot version, which starts anew on every
change to any key, so a deactivated or deleted key's secret is never served from memory.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone

from accessgrants.keyprincipals import shared_key_principal
from accessgrants.models import AccessKey
from portal.core import snapshots
from portal.core.cache import ProcessMemory

_secrets: ProcessMemory[str, str] = ProcessMemory(
    "access key secrets",
    entries=4096,
    secrets="the gateway checks the signature of every request, and decrypting the key's secret from "
    "the database each time would cost a query and a decryption per request; the entry is keyed by the "
    "access snapshot version, which changes whenever any key changes",
)


@dataclass(frozen=True)
class KeySecret:
    """The signing secret of a usable key, or ``None`` with the reason the key may not sign."""

    secret: str | None = field(repr=False)
    refusal: str | None


def key_secret(access_key_id: str, when: datetime | None = None) -> KeySecret:
    """The secret of the key ``access_key_id`` if it is active and unexpired at ``when`` (default now)."""
    principal = shared_key_principal(access_key_id)
    if principal is None:
        return KeySecret(None, "no such access key")
    why = principal.refusal(when or timezone.now())
    if why is not None:
        return KeySecret(None, why)
    memory_key = _secrets.key(f"access-key-secret:{snapshots.version()}:{access_key_id}")
    secret = _secrets.get(memory_key)
    if secret is None:
        stored = AccessKey.objects.filter(access_key_id=access_key_id).values_list("secret", flat=True).first()
        if not isinstance(stored, dict) or not stored.get("secret_access_key"):
            return KeySecret(None, "no such access key")
        secret = str(stored["secret_access_key"])
        _secrets.put(memory_key, secret)
    return KeySecret(secret, None)


def signing_secret(access_key_id: str) -> str | None:
    """The secret to check a signature made with ``access_key_id``, ``None`` when the key may not sign."""
    return key_secret(access_key_id).secret
