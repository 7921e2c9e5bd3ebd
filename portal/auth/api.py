"""The caller's own things: who they are, their roles, and their personal API tokens."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.request import Request
from rest_framework.response import Response

from portal.auth.models import ApiToken
from portal.auth.serializers import ApiTokenSerializer, IssuedApiTokenSerializer, MeSerializer
from portal.auth.tokens import issue_personal_token
from portal.tenancy.access import PortalApiView, PortalViewSet
from portal.tenancy.models import Organization, Space
from portal.tenancy.rules import RoleFact


def describe_roles(facts: list[RoleFact]) -> list[dict[str, Any]]:
    """Role facts carry ids; people read names. Stored grants and token claims are listed alike."""
    organization_names = dict(
        Organization.objects.filter(pk__in={f.organization_id for f in facts if f.organization_id}).values_list(
            "pk", "name"
        )
    )
    space_names = dict(Space.objects.filter(pk__in={f.space_id for f in facts if f.space_id}).values_list("pk", "name"))
    roles = {
        (
            fact.scope,
            fact.role,
            organization_names.get(fact.organization_id) if fact.organization_id else None,
            space_names.get(fact.space_id) if fact.space_id else None,
        )
        for fact in facts
    }
    return [
        {"scope": scope, "role": role, "organization": organization, "space": space}
        for scope, role, organization, space in sorted(roles, key=lambda row: tuple(str(part) for part in row))
    ]


class MeView(PortalApiView):
    """Who the API thinks the caller is, and the roles it will judge them by."""

    @extend_schema(summary="Show the caller and their roles", responses=MeSerializer)
    def get(self, request: Request) -> Response:
        context = self.access
        user = request.user
        owned = Organization.objects.filter(pk__in=context.owned_organization_ids).values_list("name", flat=True)
        answer = {
            "id": user.pk,
            "email": getattr(user, "email", ""),
            "username": user.get_username(),
            "platform_admin": context.platform_admin,
            "may_create_organization": context.may_create_organization(),
            "owned_organizations": sorted(owned),
            "roles": describe_roles(context.facts),
        }
        return Response(MeSerializer(answer).data)


@extend_schema_view(
    list=extend_schema(summary="List the caller's API tokens"),
    retrieve=extend_schema(summary="Show one of the caller's API tokens"),
    destroy=extend_schema(summary="Delete one of the caller's API tokens"),
)
class ApiTokenViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    PortalViewSet,
):
    """The caller's personal tokens; a token's key is shown once, in the answer that creates it."""

    serializer_class = ApiTokenSerializer
    ordering_fields = ["created", "name", "last_used", "expires"]
    ordering = ["-created"]
    search_fields = ["name"]
    audit_name = "apitoken"

    def get_queryset(self) -> QuerySet[ApiToken]:
        if getattr(self, "swagger_fake_view", False):
            return ApiToken.objects.none()
        return ApiToken.objects.filter(user=self.caller)

    @extend_schema(
        summary="Create a personal API token",
        description="The answer carries the key, once; send it as 'Authorization: Token <key>'.",
        request=ApiTokenSerializer,
        responses={201: IssuedApiTokenSerializer},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = ApiTokenSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        token, key = issue_personal_token(
            request.user, serializer.validated_data["name"], serializer.validated_data.get("expires")
        )
        token.key = key  # type: ignore[attr-defined]
        return Response(IssuedApiTokenSerializer(token).data, status=status.HTTP_201_CREATED)
