"""Grants: who holds which role on which organization or space.

The roles on organizations and spaces are tenancy's rules, so the model lives here. It keeps the
``accessgrants`` app label it was created under: its table, migrations, admin URLs and content
type stay as existing databases have them.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from portal.audit.querysets import ChangeSignallingQuerySet


class Scope(models.TextChoices):
    ORGANIZATION = "organization", "Organization"
    SPACE = "space", "Space"
    PUBLIC = "public", "All public"
    PLATFORM = "platform", "Platform"


class Role(models.TextChoices):
    # organization roles
    ACCESS = "access", "Access"
    ADMIN = "admin", "Admin"
    # shared by organizations and spaces
    TRUSTEE = "trustee", "Trustee"
    # space roles
    USER = "user", "User"
    SUPPLIER = "supplier", "Supplier"
    # all-public roles
    ORG_ALL_PUBLIC = "org_all_public", "All public organizations"
    SPC_ALL_PUBLIC = "spc_all_public", "All public spaces"
    # platform
    SDK_ADMIN = "sdk_admin", "Platform admin"
    ORG_CREATOR = "org_creator", "May create organizations"


ROLES_BY_SCOPE: dict[str, frozenset[str]] = {
    Scope.ORGANIZATION: frozenset({Role.ACCESS, Role.ADMIN, Role.TRUSTEE}),
    Scope.SPACE: frozenset({Role.USER, Role.SUPPLIER, Role.TRUSTEE}),
    Scope.PUBLIC: frozenset({Role.ORG_ALL_PUBLIC, Role.SPC_ALL_PUBLIC}),
    Scope.PLATFORM: frozenset({Role.SDK_ADMIN, Role.ORG_CREATOR}),
}


class Source(models.TextChoices):
    MANUAL = "manual", "Granted in Spaceport"
    SSO = "sso", "From the identity provider"


class Grant(models.Model):
    """One role held by one user or group.

    A space grant always names its organization too, and the two must agree: a space role
    counts only in its own organization (AccessManager matched space roles by name alone).
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="grants"
    )
    group = models.ForeignKey(Group, null=True, blank=True, on_delete=models.CASCADE, related_name="grants")
    scope = models.CharField(max_length=16, choices=Scope.choices)
    role = models.CharField(max_length=16, choices=Role.choices)
    organization = models.ForeignKey(
        "portal.Organization", null=True, blank=True, on_delete=models.CASCADE, related_name="grants"
    )
    space = models.ForeignKey("portal.Space", null=True, blank=True, on_delete=models.CASCADE, related_name="grants")
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.MANUAL)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)

    objects = ChangeSignallingQuerySet.as_manager()

    class Meta:
        app_label = "accessgrants"
        ordering = ["scope", "organization__name", "space__name", "role"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(user__isnull=False) & Q(group__isnull=True))
                | (Q(user__isnull=True) & Q(group__isnull=False)),
                name="grant_has_one_principal",
            ),
            models.CheckConstraint(
                condition=(Q(scope="organization") & Q(organization__isnull=False) & Q(space__isnull=True))
                | (Q(scope="space") & Q(organization__isnull=False) & Q(space__isnull=False))
                | (Q(scope__in=["public", "platform"]) & Q(organization__isnull=True) & Q(space__isnull=True)),
                name="grant_target_matches_scope",
            ),
            models.UniqueConstraint(
                fields=["user", "group", "scope", "role", "organization", "space"],
                name="grant_unique",
                nulls_distinct=False,
            ),
        ]
        indexes = [models.Index(fields=["user"]), models.Index(fields=["group"])]

    def __str__(self) -> str:
        return f"{self.principal_label}: {self.role_label}"

    @property
    def principal_label(self) -> str:
        if self.user_id:
            return str(self.user)
        return f"group {self.group}"

    @property
    def role_label(self) -> str:
        if self.scope == Scope.SPACE and self.space is not None:
            return f"{self.role} on space {self.space}"
        if self.scope == Scope.ORGANIZATION and self.organization is not None:
            return f"{self.role} on organization {self.organization}"
        return self.get_role_display()

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if bool(self.user_id) == bool(self.group_id):
            errors["user"] = "Grant the role to exactly one user or one group."
        allowed = ROLES_BY_SCOPE.get(self.scope, frozenset())
        if self.role not in allowed:
            errors["role"] = f"{self.role!r} is not a {self.scope} role; choose one of: {', '.join(sorted(allowed))}."
        if self.scope in (Scope.ORGANIZATION, Scope.SPACE) and not self.organization_id:
            errors["organization"] = "Name the organization."
        if self.scope == Scope.SPACE:
            if not self.space_id:
                errors["space"] = "Name the space."
            elif self.organization_id and self.space is not None and self.space.organization_id != self.organization_id:
                errors["space"] = "The space belongs to another organization."
        if self.scope in (Scope.PUBLIC, Scope.PLATFORM) and (self.organization_id or self.space_id):
            errors["organization"] = f"A {self.scope} grant names no organization or space."
        if errors:
            raise ValidationError(errors)
