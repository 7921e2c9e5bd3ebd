"""Organizations and spaces over REST; every list is cut down to what the caller may see."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, permissions
from rest_framework.request import Request
from rest_framework.response import Response

from portal.audit import journal
from portal.audit.models import AuditEvent
from portal.core.errors import DomainError
from portal.tenancy.access import PortalApiView, access_for
from portal.tenancy.api.filters import AuditEventFilter, OrganizationFilter, SpaceFilter
from portal.tenancy.api.serializers import AuditEventSerializer, OrganizationSerializer, SpaceSerializer
from portal.tenancy.changes import mark_organization_for_deletion, mark_space_for_deletion
from portal.tenancy.models import Organization, Space
from portal.tenancy.scoped import AccessScope, OrganizationScopedViewSet, ScopedViewSet
from portal.web.api.base import refuse

ORGANIZATION_PATH = OpenApiParameter(
    "organization_name", OpenApiTypes.STR, OpenApiParameter.PATH, description="The organization's name."
)
NAME_PATH = OpenApiParameter("name", OpenApiTypes.STR, OpenApiParameter.PATH)


@extend_schema_view(
    list=extend_schema(summary="List the organizations the caller may see"),
    create=extend_schema(
        summary="Create an organization",
        description="Platform admins and organization creators only. The caller becomes an owner; "
        "the organization's loadingzone is created with it.",
    ),
    retrieve=extend_schema(summary="Show an organization", parameters=[NAME_PATH]),
    partial_update=extend_schema(
        summary="Change an organization",
        description="Owners and admins only. The name cannot be changed; use DELETE to mark for deletion.",
        parameters=[NAME_PATH],
    ),
    destroy=extend_schema(
        summary="Mark an organization for deletion",
        description="Owners and admins only. The organization and its spaces become invisible to their users.",
        parameters=[NAME_PATH],
    ),
)
class OrganizationViewSet(
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    ScopedViewSet,
):
    """Organizations the caller belongs to, runs, or may see as public; platform admins see all."""

    serializer_class = OrganizationSerializer
    filterset_class = OrganizationFilter
    search_fields = ["name", "display_name", "description"]
    ordering_fields = ["name", "display_name", "created", "modified"]
    ordering = ["name"]
    lookup_field = "name"
    lookup_value_regex = "[^/]+"
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    audit_name = "organization"

    def get_queryset(self) -> QuerySet[Organization]:
        return self.access.visible_organizations().prefetch_related("owners")

    def hidden_object(self) -> Organization | None:
        return Organization.objects.filter(name=self.kwargs.get("name")).first()

    def organization_of(self, obj: Organization) -> Organization:
        return obj

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        if not self.access.may_create_organization():
            raise refuse("organization.create", message="You may not create organizations.")
        return super().create(request, *args, **kwargs)

    def perform_destroy(self, instance: Organization) -> None:
        mark_organization_for_deletion(instance)


class SpaceListViewSet(ScopedViewSet):
    """What the organization's space views and the flat space list share."""

    serializer_class = SpaceSerializer
    filterset_class = SpaceFilter
    search_fields = ["name", "display_name", "description"]
    ordering_fields = ["name", "created", "modified", "retention_days"]
    audit_name = "space"


@extend_schema_view(
    list=extend_schema(summary="List an organization's spaces", parameters=[ORGANIZATION_PATH]),
    create=extend_schema(
        summary="Create a space",
        description="The organization's owners and admins only; names are unique within the organization.",
        parameters=[ORGANIZATION_PATH],
    ),
    retrieve=extend_schema(summary="Show a space", parameters=[ORGANIZATION_PATH, NAME_PATH]),
    partial_update=extend_schema(
        summary="Change a space",
        description="The organization's owners and admins only. The name cannot be changed.",
        parameters=[ORGANIZATION_PATH, NAME_PATH],
    ),
    destroy=extend_schema(
        summary="Mark a space for deletion",
        description="The organization's owners and admins only. The loadingzone cannot be deleted.",
        parameters=[ORGANIZATION_PATH, NAME_PATH],
    ),
)
class OrganizationSpaceViewSet(
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    OrganizationScopedViewSet,
    SpaceListViewSet,
):
    """The spaces of one organization; its owners and admins create, change and delete them."""

    lookup_field = "name"
    ordering = ["name"]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self) -> QuerySet[Space]:
        if getattr(self, "swagger_fake_view", False):
            return Space.objects.none()
        spaces = Space.objects.filter(organization=self.organization).select_related("organization")
        return self.access.visible_spaces(spaces)

    def hidden_object(self) -> Space | Organization | None:
        """The space written to, or for a new space the organization it was meant for."""
        organization_name = self.kwargs.get("organization_name")
        if "name" not in self.kwargs:
            return Organization.objects.filter(name=organization_name).first()
        return Space.objects.filter(organization__name=organization_name, name=self.kwargs["name"]).first()

    def get_serializer_context(self) -> dict[str, Any]:
        context = dict(super().get_serializer_context())
        if not getattr(self, "swagger_fake_view", False) and "organization_name" in self.kwargs:
            context["organization"] = self.organization
        return context

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        organization = self.organization
        if not self.access.may_create_space(organization):
            if self.access.may_administer(organization):
                raise DomainError("organization", "The organization is marked for deletion; no spaces can be added.")
            raise refuse(
                "space.create",
                organization=organization,
                message="Only the organization's owners and admins may add spaces.",
                details={"organization": organization.name},
            )
        return super().create(request, *args, **kwargs)

    def perform_destroy(self, instance: Space) -> None:
        mark_space_for_deletion(instance)


@extend_schema_view(list=extend_schema(summary="List every space the caller may see"))
class SpaceViewSet(mixins.ListModelMixin, SpaceListViewSet):
    """Every space the caller may see, across organizations."""

    ordering = ["organization__name", "name"]

    def get_queryset(self) -> QuerySet[Space]:
        return self.access.visible_spaces(Space.objects.select_related("organization"))


class IsPlatformAdmin(permissions.BasePermission):
    message = "Only platform admins may read the audit trail."

    def has_permission(self, request: Request, view: Any) -> bool:
        return bool(request.user and request.user.is_authenticated) and access_for(request).platform_admin


@extend_schema_view(
    list=extend_schema(summary="List audit events (platform admins)"),
    retrieve=extend_schema(summary="Show one audit event (platform admins)"),
)
class AuditEventViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """The audit trail, for platform admins: it spans every organization."""

    access_scope = AccessScope.PLATFORM

    serializer_class = AuditEventSerializer
    permission_classes = [IsPlatformAdmin]
    filterset_class = AuditEventFilter
    search_fields = ["action", "target_label", "actor_label"]
    ordering_fields = ["time", "action"]
    ordering = ["-time", "-id"]
    queryset = AuditEvent.objects.all()

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Journaled events (credential requests) are copied in first, so the list is complete up to now."""
        journal.drain()
        return super().list(request, *args, **kwargs)


@extend_schema(exclude=True)
class UnknownEndpointView(PortalApiView):
    """Paths under the API that match nothing still answer in the API's error shape, not an HTML page."""

    permission_classes = [permissions.AllowAny]

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        raise exceptions.NotFound("There is no such API endpoint.")
