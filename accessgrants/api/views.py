"""Granting and revoking roles over REST, through the same domain functions the pages use."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.request import Request
from rest_framework.response import Response

from accessgrants.api.filters import GrantFilter
from accessgrants.api.serializers import GrantSerializer, NewGrantSerializer
from portal.core.errors import AccessDenied
from portal.tenancy.granting import grant_role, may_manage_grant, revoke_grant
from portal.tenancy.grants import Grant
from portal.tenancy.scoped import ScopedViewSet
from portal.web.api.base import refuse


@extend_schema_view(
    list=extend_schema(summary="List the grants the caller may see"),
    retrieve=extend_schema(summary="Show a grant"),
    destroy=extend_schema(summary="Revoke a grant", description="Whoever may grant the role may revoke it."),
)
class GrantViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    ScopedViewSet,
):
    """Grants the caller may see: all for platform admins, their organizations' for admins, their own for all."""

    serializer_class = GrantSerializer
    filterset_class = GrantFilter
    search_fields = ["user__email", "group__name", "organization__name", "space__name"]
    ordering_fields = ["created", "role", "scope"]
    audit_name = "grant"
    write_refusal = "You may not manage roles here."

    def get_queryset(self) -> QuerySet[Grant]:
        grants = Grant.objects.select_related("user", "group", "organization", "space", "granted_by")
        if getattr(self, "swagger_fake_view", False):
            return grants.none()
        context = self.access
        if context.platform_admin:
            return grants
        user = self.request.user
        return grants.filter(
            Q(organization__in=context.administered_organizations().values("pk"))
            | Q(user_id=user.pk)
            | Q(group__in=user.groups.all())
        ).distinct()

    def may_change(self, obj: Grant) -> bool:
        """Whoever may grant the role may revoke it."""
        return may_manage_grant(self.access, obj.scope, obj.organization)

    def hidden_object(self) -> Grant | None:
        key = str(self.kwargs.get("pk", ""))
        return Grant.objects.filter(pk=int(key)).first() if key.isdigit() else None

    @extend_schema(
        summary="Grant a role",
        description="Organization roles and space roles: the organization's owners and admins. "
        "Platform and all-public roles: platform admins.",
        request=NewGrantSerializer,
        responses={201: GrantSerializer},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        wanted = NewGrantSerializer(data=request.data, context=self.get_serializer_context())
        wanted.is_valid(raise_exception=True)
        fields = wanted.validated_data
        try:
            grant = grant_role(
                self.access,
                role=fields["role"],
                scope=fields["scope"],
                user=fields.get("user"),
                group=fields.get("group"),
                organization=fields.get("organization"),
                space=fields.get("space"),
                granted_by=request.user,
            )
        except AccessDenied as exc:
            raise refuse(
                "grant.create",
                organization=fields.get("organization"),
                message=exc.message,
                details={key: str(value) for key, value in fields.items() if value is not None},
            ) from exc
        return Response(GrantSerializer(grant).data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance: Grant) -> None:
        try:
            revoke_grant(self.access, instance)
        except AccessDenied as exc:
            raise refuse("grant.delete", instance, message=exc.message) from exc
