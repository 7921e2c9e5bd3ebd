"""Cloud connections: how Spaceport reaches an organization's storage."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models

from connections.binding import bound_to, seal, spec_for
from connections.providers.spec import ConnectionInputError
from portal.audit.querysets import ChangeSignallingQuerySet
from portal.core.fields import EncryptedJSONField

if TYPE_CHECKING:
    from connections.providers.spec import MethodSpec

EXTERNAL_ID_PREFIX = "spaceport-"


def new_external_id() -> str:
    """192 random bits: unguessable, so one customer cannot make Spaceport act in another's account."""
    return EXTERNAL_ID_PREFIX + secrets.token_hex(24)


class Status(models.TextChoices):
    DRAFT = "draft", "Draft"
    VALIDATING = "validating", "Validating"
    VALID = "valid", "Valid"
    INVALID = "invalid", "Invalid"
    DISABLED = "disabled", "Disabled"


class CloudConnection(models.Model):
    """One way into a customer's storage, with the secret part encrypted and never shown again."""

    organization = models.ForeignKey("portal.Organization", on_delete=models.CASCADE, related_name="connections")
    name = models.CharField(
        max_length=63,
        validators=[RegexValidator(r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]\Z", "Use 3 to 63 lowercase letters, digits, -.")],
    )
    # Checked against the provider registry, not ``choices``, so adding a cloud needs no migration.
    provider = models.CharField(max_length=16)
    method = models.CharField(max_length=32)
    config = models.JSONField(default=dict, blank=True, help_text="The non-secret settings of the method.")
    secret = EncryptedJSONField(null=True, blank=True)
    external_id = models.CharField(max_length=64, unique=True, null=True, blank=True, editable=False)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.DRAFT, db_index=True)
    status_message = models.CharField(max_length=500, blank=True)
    active = models.BooleanField(
        default=False,
        editable=False,
        help_text="The organization's spaces live in this connection; at most one per organization.",
    )
    validated_at = models.DateTimeField(null=True, blank=True)
    validation_report = models.JSONField(default=dict, blank=True)
    key_rotation = models.JSONField(
        default=dict,
        blank=True,
        editable=False,
        help_text="The last rotation of the connection's long-term key: when, how it ended and why (never the key).",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)
    modified = models.DateTimeField(auto_now=True)

    objects = ChangeSignallingQuerySet.as_manager()

    class Meta:
        ordering = ["organization__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="connection_name_unique_in_organization"),
            models.UniqueConstraint(
                fields=["organization"], condition=models.Q(active=True), name="one_active_connection_per_organization"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organization.name}/{self.name}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        """A secret saved without a binding is bound to the destination it is saved with.

        Domain code binds explicitly when a secret is entered (:mod:`connections.binding`); a
        secret that is already bound keeps its binding, so changing only the settings leaves it
        unusable until it is entered again.
        """
        if self.secret and not bound_to(self.secret) and self.method:
            self.secret = seal(self.method, self.config or {}, self.secret)
        super().save(*args, **kwargs)

    @property
    def spec(self) -> MethodSpec:
        return spec_for(self.method)

    @property
    def method_label(self) -> str:
        """The method's name for people; the stored value when no registered provider offers it."""
        try:
            return self.spec.label
        except ConnectionInputError:
            return self.method

    @property
    def has_secret(self) -> bool:
        return bool(self.secret)

    @property
    def secret_field_names(self) -> list[str]:
        """Which secret fields hold a value, never the values."""
        return sorted(self.secret or {})


class GoogleServiceAccount(models.Model):
    """The Google service account Spaceport acts as for one organization's direct IAM bindings.

    A customer grants this account, not Spaceport's own, so a grant admits one organization only.
    An account is never handed to another organization, not even after its own is deleted: the
    old customer's grants may still name it.
    """

    organization = models.OneToOneField(
        "portal.Organization",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="google_service_account",
    )
    email = models.EmailField(unique=True)
    from_pool = models.BooleanField(default=False, help_text="Taken from SPACEPORT_GCP_SERVICE_ACCOUNT_POOL.")
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["email"]

    def __str__(self) -> str:
        return self.email


class SpaceStorage(models.Model):
    """Whether a space's own storage (an Azure container) is in place, as Spaceport last found it.

    Prefix-based stores need nothing per space; on Azure each space is a container that Spaceport
    creates when it may, and otherwise tells the customer how to create.
    """

    class State(models.TextChoices):
        READY = "ready", "Ready"
        MISSING = "missing", "Missing"

    space = models.OneToOneField("portal.Space", on_delete=models.CASCADE, related_name="storage")
    connection = models.ForeignKey(CloudConnection, null=True, on_delete=models.SET_NULL, related_name="+")
    state = models.CharField(max_length=10, choices=State.choices)
    message = models.CharField(max_length=500, blank=True)
    hint = models.CharField(max_length=1000, blank=True)
    command = models.CharField(max_length=500, blank=True, help_text="What creates the storage by hand.")
    checked_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "space storage"

    def __str__(self) -> str:
        return f"{self.space}: {self.state}"
