"""A commit, the objects it moves, and where an organization wants to hear that it finished.

Every object of a commit has its own row and state, written before and after each side effect on
the storage, so that a commit interrupted at any point (a worker killed, a deploy) resumes where
it stopped and never deletes a source whose copy was not verified.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from portal.core.fields import EncryptedJSONField


class CommitState(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    PARTIALLY_FAILED = "partially_failed", "Partially failed"
    FAILED = "failed", "Failed"


ACTIVE_STATES = (CommitState.QUEUED, CommitState.RUNNING)


class ItemState(models.TextChoices):
    PENDING = "pending", "Pending"
    COPYING = "copying", "Copying"
    VERIFIED = "verified", "Copy verified"
    DONE = "done", "Moved"
    SKIPPED = "skipped", "Already in the space"
    CONFLICT = "conflict", "Conflict"
    FAILED = "failed", "Failed"


OPEN_ITEM_STATES = (ItemState.PENDING, ItemState.COPYING, ItemState.VERIFIED)


class Commit(models.Model):
    """Everything under ``root_dir/`` in the loadingzone, moved to the same keys in ``space``."""

    class Origin(models.TextChoices):
        API = "api", "API"
        ACCESSMANAGER = "accessmanager", "AccessManager endpoint"
        PAGE = "page", "Space page"

    organization = models.ForeignKey("portal.Organization", on_delete=models.CASCADE, related_name="commits")
    space = models.ForeignKey("portal.Space", on_delete=models.CASCADE, related_name="commits")
    root_dir = models.CharField(max_length=1024)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    user_label = models.CharField(max_length=254, blank=True, help_text="Who asked, as they were then.")
    origin = models.CharField(max_length=16, choices=Origin.choices, default=Origin.API)
    state = models.CharField(max_length=20, choices=CommitState.choices, default=CommitState.QUEUED, db_index=True)
    overwrite = models.BooleanField(
        default=False, help_text="Replace objects that already exist in the space with different content."
    )
    planned = models.BooleanField(default=False, help_text="Whether the loadingzone has been listed completely.")
    total = models.PositiveIntegerField(default=0)
    moved = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    conflicts = models.PositiveIntegerField(default=0)
    bytes_total = models.PositiveBigIntegerField(default=0)
    bytes_moved = models.PositiveBigIntegerField(default=0)
    runs = models.PositiveIntegerField(default=0, help_text="How often a worker started on it (more after a crash).")
    created = models.DateTimeField(auto_now_add=True)
    started = models.DateTimeField(null=True, blank=True)
    heartbeat = models.DateTimeField(null=True, blank=True, help_text="The last time a worker made progress.")
    finished = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "root_dir"],
                condition=Q(state__in=["queued", "running"]),
                name="commit_one_active_per_root_dir",
            ),
        ]
        indexes = [models.Index(fields=["state", "heartbeat"])]

    def __str__(self) -> str:
        return f"commit {self.pk} {self.organization.name}/loadingzone/{self.root_dir} → {self.space.name}"

    @property
    def is_active(self) -> bool:
        return self.state in ACTIVE_STATES

    @property
    def done_count(self) -> int:
        return self.moved + self.skipped + self.failed + self.conflicts

    @property
    def percent(self) -> int:
        return 100 if not self.total else int(100 * self.done_count / self.total)

    @property
    def counts(self) -> dict[str, int]:
        return {
            "total": self.total,
            "moved": self.moved,
            "skipped": self.skipped,
            "failed": self.failed,
            "conflicts": self.conflicts,
            "bytes_total": self.bytes_total,
            "bytes_moved": self.bytes_moved,
        }


class CommitItem(models.Model):
    """One object of a commit; ``key`` is relative to the root directory."""

    commit = models.ForeignKey(Commit, on_delete=models.CASCADE, related_name="items")
    key = models.CharField(max_length=1024)
    size = models.PositiveBigIntegerField(default=0)
    checksum = models.CharField(max_length=128, blank=True, help_text="The source's content digest, when known.")
    etag = models.CharField(max_length=128, blank=True, help_text="The source's ETag as the listing gave it.")
    state = models.CharField(max_length=10, choices=ItemState.choices, default=ItemState.PENDING)
    copied = models.BooleanField(default=False, help_text="Whether this commit wrote the copy (else it was there).")
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["commit", "id"]
        constraints = [models.UniqueConstraint(fields=["commit", "key"], name="commit_item_key_unique")]
        indexes = [models.Index(fields=["commit", "state"])]

    def __str__(self) -> str:
        return self.key


class OrganizationWebhook(models.Model):
    """Where an organization hears about finished commits; the secret signs every delivery."""

    organization = models.OneToOneField("portal.Organization", on_delete=models.CASCADE, related_name="webhook")
    url = models.URLField(max_length=2000)
    secret = EncryptedJSONField(null=True, blank=True)
    enabled = models.BooleanField(default=True)
    created = models.DateTimeField(auto_now_add=True)
    modified = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"webhook of {self.organization.name}"

    @property
    def has_secret(self) -> bool:
        return bool(self.secret)


class WebhookDelivery(models.Model):
    """One event sent to one organization's webhook, with the exact body, so retries resend the same bytes."""

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"

    organization = models.ForeignKey("portal.Organization", on_delete=models.CASCADE, related_name="+")
    commit = models.ForeignKey(Commit, null=True, blank=True, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=64)
    body = models.TextField()
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    created = models.DateTimeField(auto_now_add=True)
    delivered = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created", "-id"]
        verbose_name_plural = "webhook deliveries"

    def __str__(self) -> str:
        return f"{self.event} to {self.organization.name} ({self.state})"
