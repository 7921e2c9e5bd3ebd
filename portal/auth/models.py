"""Personal API tokens, stored hashed so a database leak does not leak access."""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone

from portal.core.printable import printable_line

TOKEN_PREFIX = "spt_"  # noqa: S105 - a marker, not a secret


def hash_token(key: str) -> str:
    """Tokens carry 256 random bits, so a plain SHA-256 is enough to make the stored form useless."""
    return hashlib.sha256(key.encode()).hexdigest()


class ApiToken(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, validators=[printable_line])
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    key_hint = models.CharField(max_length=12, editable=False, help_text="The first characters, to tell tokens apart.")
    created = models.DateTimeField(auto_now_add=True)
    expires = models.DateTimeField(null=True, blank=True)
    last_used = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created"]
        verbose_name = "personal API token"

    def __str__(self) -> str:
        return f"{self.name} ({self.key_hint}…)"

    @classmethod
    def issue(cls, user: object, name: str, expires: object = None) -> tuple[ApiToken, str]:
        """Create a token and return it with its key, which is shown this once and never stored."""
        key = TOKEN_PREFIX + secrets.token_urlsafe(32)
        token = cls.objects.create(user=user, name=name, key_hash=hash_token(key), key_hint=key[:10], expires=expires)
        return token, key

    @property
    def is_expired(self) -> bool:
        return self.expires is not None and self.expires <= timezone.now()
