"""Organizations and their spaces, named and shaped as in AccessManager."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models

from portal.audit.querysets import ChangeSignallingQuerySet
from portal.core import lookups  # noqa: F401 - registers tags__has_element
from portal.core.printable import printable_line, printable_text

LOADINGZONE = "loadingzone"

ORGANIZATION_NAME_PATTERN = r"^[a-z0-9]{3,24}\Z"
# A space name becomes an Azure container name (and an S3 or GCS prefix), so it follows Azure's
# container rules: 3 to 63 characters, lowercase letters, digits and single hyphens, starting and
# ending with a letter or digit.
SPACE_NAME_PATTERN = r"^(?!.*--)[a-z0-9][a-z0-9-]{1,61}[a-z0-9]\Z"

organization_name_validator = RegexValidator(
    ORGANIZATION_NAME_PATTERN,
    "Use 3 to 24 characters: lowercase letters and digits only.",
    code="invalid_name",
)
RESERVED_ORGANIZATION_NAMES = frozenset({"org", "spc", "new"})


def validate_organization_name_not_reserved(value: str) -> None:
    """``org`` and ``spc`` would make role names such as ``org_x_trustee`` ambiguous; ``new`` is a page."""
    if value in RESERVED_ORGANIZATION_NAMES:
        raise ValidationError(f"{value!r} is reserved; choose another name.", code="reserved_name")


space_name_validator = RegexValidator(
    SPACE_NAME_PATTERN,
    "Use 3 to 63 characters: lowercase letters, digits and single hyphens, starting and ending with a letter or digit.",
    code="invalid_name",
)


class Confidentiality(models.TextChoices):
    PUBLIC = "PUBLIC", "Public"
    INTERNAL = "INTERNAL", "Internal"
    PRIVATE = "PRIVATE", "Private"


class State(models.TextChoices):
    OPEN = "OPEN", "Open"
    CLOSED = "CLOSED", "Closed"
    LOCKED = "LOCKED", "Locked"
    DELETION = "DELETION", "Marked for deletion"


class Organization(models.Model):
    """A customer's storage account: a set of spaces with its own loadingzone."""

    name = models.CharField(
        max_length=24, unique=True, validators=[organization_name_validator, validate_organization_name_not_reserved]
    )
    display_name = models.CharField(max_length=200, blank=True, validators=[printable_line])
    description = models.TextField(blank=True, max_length=4000, validators=[printable_text])
    confidentiality = models.CharField(max_length=10, choices=Confidentiality.choices, default=Confidentiality.INTERNAL)
    state = models.CharField(max_length=10, choices=State.choices, default=State.OPEN)
    owners = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="owned_organizations")
    tags = models.JSONField(default=list, blank=True)
    company = models.CharField(max_length=200, blank=True, validators=[printable_line])
    created = models.DateTimeField(auto_now_add=True)
    modified = models.DateTimeField(auto_now=True)

    objects = ChangeSignallingQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def label(self) -> str:
        return self.display_name or self.name


class Space(models.Model):
    """A use case inside an organization: a container, bucket or prefix in its storage."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="spaces")
    name = models.CharField(max_length=63, validators=[space_name_validator])
    display_name = models.CharField(max_length=200, blank=True, validators=[printable_line])
    description = models.TextField(blank=True, max_length=4000, validators=[printable_text])
    confidentiality = models.CharField(max_length=10, choices=Confidentiality.choices, default=Confidentiality.INTERNAL)
    state = models.CharField(max_length=10, choices=State.choices, default=State.OPEN)
    retention_days = models.PositiveIntegerField(
        default=365, help_text="How long data is kept in this space, in days (0 keeps it forever)."
    )
    tags = models.JSONField(default=list, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    modified = models.DateTimeField(auto_now=True)

    objects = ChangeSignallingQuerySet.as_manager()

    class Meta:
        ordering = ["organization__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="space_name_unique_in_organization"),
        ]

    def __str__(self) -> str:
        return f"{self.organization.name}/{self.name}"

    @property
    def is_loadingzone(self) -> bool:
        return self.name == LOADINGZONE

    @property
    def label(self) -> str:
        return self.display_name or self.name
