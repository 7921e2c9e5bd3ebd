"""The models Django registers for this app: grants, and identity policies with their attachments.

``Grant`` is defined in :mod:`portal.tenancy.grants` under this app's label; importing that module
here registers it with this app when Django loads the models, so the migrations, permissions and
content type stay this app's. Import it from there.

Identity policies are changed through :mod:`accessgrants.identitypolicies`, which checks the
document and where an attachment may point before anything is saved.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.db.models import Q

import portal.tenancy.grants  # noqa: F401 - registers Grant under the accessgrants label
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
