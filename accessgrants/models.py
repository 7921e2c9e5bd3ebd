"""The models Django registers for this app: grants, identity policies with their attachments, and S3
access keys with the requests for them.

``Grant`` is defined in :mod:`portal.tenancy.grants` under this app's label; importing that module
here registers it with this app when Django loads the models, so the migrations, permissions and
content type stay this app's. Import it from there.

Identity policies are changed through :mod:`accessgrants.identitypolicies`, which checks the
document and where an attachment may point before anything is saved; access keys and key requests
through :mod:`accessgrants.accesskeys` and :mod:`accessgrants.keyrequests`, which hold the limits,
the caps and the audit trail.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.db.models import Q

import portal.tenancy.grants  # noqa: F401 - registers Grant under the accessgrants label
from portal.core.fields import EncryptedJSONField
from portal.tenancy.models import Organization

POLICY_NAME_PATTERN = r"^[A-Za-z0-9+=,.@_-]{1,128}$"


class IdentityPolicy(models.Model):
    """An IAM JSON policy of one organization; ``version`` counts the changes of its document."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="identity_policies")
    name = models.CharField(max_length=128)
    description = models.CharField(max_length=1000, blank=True)
    document = models.JSONField()
    version = models.PositiveIntegerField(default=1)
    created = models.DateTimeField(auto_now_add=True)
    modified = models.DateTimeField(auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["organization__name", "name"]
        verbose_name = "identity policy"
        verbose_name_plural = "identity policies"
        constraints = [models.UniqueConstraint(fields=["organization", "name"], name="identity_policy_unique_name")]

    def __str__(self) -> str:
        return f"{self.organization.name}/{self.name}"


class PolicyAttachment(models.Model):
    """One policy attached to one user or one group; both must belong to the policy's organization."""

    policy = models.ForeignKey(IdentityPolicy, on_delete=models.CASCADE, related_name="attachments")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="policy_attachments"
    )
    group = models.ForeignKey(Group, null=True, blank=True, on_delete=models.CASCADE, related_name="policy_attachments")
    attached_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["policy", "created"]
        constraints = [
            models.CheckConstraint(
                condition=Q(user__isnull=False, group__isnull=True) | Q(user__isnull=True, group__isnull=False),
                name="policy_attachment_has_one_principal",
            ),
            models.UniqueConstraint(
                fields=["policy", "user"], condition=Q(user__isnull=False), name="policy_attachment_unique_user"
            ),
            models.UniqueConstraint(
                fields=["policy", "group"], condition=Q(group__isnull=False), name="policy_attachment_unique_group"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.policy} -> {self.principal_label}"

    @property
    def principal_label(self) -> str:
        if self.user_id is not None:
            return f"user {self.user.email}"  # type: ignore[union-attr]
        return f"group {self.group.name}"  # type: ignore[union-attr]


ACCESS_KEY_PREFIX = "SPK"
ACCESS_KEY_ID_PATTERN = r"^SPK[A-Z0-9]{17}$"


class AccessKey(models.Model):
    """An S3 access key pair of one user, scoped to one organization.

    The secret is kept encrypted (the gateway needs it to check signatures, so it cannot be hashed)
    and is handed out once, when the key is made. ``deactivate_after`` is set when the key is rotated:
    it keeps working beside its successor until then.
    """

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        INACTIVE = "inactive", "Inactive"

    access_key_id = models.CharField(max_length=20, unique=True)
    secret = EncryptedJSONField()
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="access_keys")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="access_keys")
    description = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    created = models.DateTimeField(auto_now_add=True)
    expires = models.DateTimeField(null=True, blank=True)
    last_used = models.DateTimeField(null=True, blank=True)
    request_count = models.PositiveBigIntegerField(
        default=0, editable=False, help_text="Requests the S3 gateway has served with this key."
    )
    deactivate_after = models.DateTimeField(null=True, blank=True)
    expiry_warned_at = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="When the owner was told by e-mail that the key expires soon."
    )
    rotated_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="successors"
    )

    class Meta:
        ordering = ["-created"]
        indexes = [models.Index(fields=["user", "status"], name="access_key_user_status")]

    def __str__(self) -> str:
        return self.access_key_id


class KeyPolicy(models.Model):
    """How an organization hands out access keys: at once, or after an admin approved the request;
    and, optionally, a shorter longest lifetime than the platform's."""

    organization = models.OneToOneField(Organization, on_delete=models.CASCADE, related_name="key_policy")
    approval_required = models.BooleanField(default=True)
    max_days = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        verbose_name = "key policy"
        verbose_name_plural = "key policies"

    def __str__(self) -> str:
        return f"{self.organization.name}: {'approval required' if self.approval_required else 'issued at once'}"


class KeyRequest(models.Model):
    """A user's request for an access key in one organization, and what became of it."""

    class Status(models.TextChoices):
        REQUESTED = "requested", "Requested"
        APPROVED = "approved", "Approved"
        DECLINED = "declined", "Declined"
        ISSUED = "issued", "Issued"
        WITHDRAWN = "withdrawn", "Withdrawn"
        EXPIRED = "expired", "Expired"

    requester = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="key_requests")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="key_requests")
    reason = models.CharField(max_length=1000)
    lifetime_days = models.PositiveIntegerField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.REQUESTED)
    created = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.CharField(max_length=1000, blank=True)
    key = models.ForeignKey(AccessKey, null=True, blank=True, on_delete=models.SET_NULL, related_name="requests")

    class Meta:
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"{self.organization.name}: key for {self.requester.email} ({self.status})"
