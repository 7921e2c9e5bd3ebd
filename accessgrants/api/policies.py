"""Identity policies of one organization over REST, through :mod:`accessgrants.identitypolicies`.

The organization's owners and admins (and platform admins) read and change them all; a member
reads the policies attached to them or their groups, and nothing else.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from accessgrants.api.policy_serializers import (
    AttachmentSerializer,
    IdentityPolicySerializer,
    PolicyChangeSerializer,
    PolicyInputSerializer,
)
from accessgrants.identitypolicies import attach as attach_policy
from accessgrants.identitypolicies import create_policy, delete_policy, update_policy
from accessgrants.identitypolicies import detach as detach_policy
from accessgrants.models import IdentityPolicy
from portal.tenancy.models import Organization
from portal.tenancy.scoped import ADMINISTRATORS_ONLY, OrganizationScopedViewSet
from portal.web.api.base import refuse


class IdentityPolicyFilter(filters.FilterSet):
    name = filters.CharFilter(field_name="name", lookup_expr="icontains", label="Part of the policy's name.")
    user = filters.CharFilter(method="attached_to", label="The e-mail address of a user it is attached to.")

    class Meta:
        model = IdentityPolicy
        fields = ["name", "user"]

    def attached_to(self, queryset: QuerySet[IdentityPolicy], name: str, value: str) -> QuerySet[IdentityPolicy]:
        return queryset.filter(attachments__user__email__iexact=value).distinct()


@extend_schema_view(
    list=extend_schema(summary="List an organization's identity policies"),
    retrieve=extend_schema(summary="Show an identity policy"),
    destroy=extend_schema(summary="Delete an identity policy"),
)
class IdentityPolicyViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    OrganizationScopedViewSet,
):
    serializer_class = IdentityPolicySerializer
    filterset_class = IdentityPolicyFilter
    lookup_field = "name"
    ordering = ["name"]
    ordering_fields = ["name", "created", "modified"]
    search_fields = ["name", "description"]
    audit_name = "identitypolicy"
    http_method_names = ["get", "post", "put", "patch", "delete", "head", "options"]

    def get_queryset(self) -> QuerySet[IdentityPolicy]:
        policies = IdentityPolicy.objects.select_related("organization", "created_by").prefetch_related(
            "attachments__user", "attachments__group"
        )
        if getattr(self, "swagger_fake_view", False):
            return policies.none()
        policies = policies.filter(organization=self.organization)
        if self.access.may_administer(self.organization):
            return policies
        user = self.caller
        return policies.filter(Q(attachments__user=user) | Q(attachments__group__in=user.groups.all())).distinct()

    def hidden_object(self) -> IdentityPolicy | Organization | None:
        name = self.kwargs.get("organization_name")
        if "name" not in self.kwargs:
            return Organization.objects.filter(name=name).first()
        return IdentityPolicy.objects.filter(organization__name=name, name=self.kwargs["name"]).first()

    def get_serializer_context(self) -> dict[str, Any]:
        context = dict(super().get_serializer_context())
        if not getattr(self, "swagger_fake_view", False) and "organization_name" in self.kwargs:
            context["administers"] = self.access.may_administer(self.organization)
        return context

    def answer(self, policy: IdentityPolicy, code: int = status.HTTP_200_OK) -> Response:
        return Response(self.get_serializer(policy).data, status=code)

    @extend_schema(
        summary="Create an identity policy",
        description="The organization's owners and admins. A policy that does not parse, names an unknown "
        "action or condition, a space of another organization or every organization is refused on `document`.",
        request=PolicyInputSerializer,
        responses={201: IdentityPolicySerializer},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        organization = self.organization
        if not self.access.may_administer(organization):
            raise refuse("identitypolicy.create", organization=organization, message=ADMINISTRATORS_ONLY)
        wanted = PolicyInputSerializer(data=request.data)
        wanted.is_valid(raise_exception=True)
        policy = create_policy(organization, created_by=request.user, **wanted.validated_data)
        return self.answer(policy, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Change an identity policy",
        description="A new document counts up the policy's version.",
        request=PolicyChangeSerializer,
        responses={200: IdentityPolicySerializer},
    )
    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        policy = self.get_object()
        wanted = PolicyChangeSerializer(data=request.data, partial=kwargs.get("partial", False))
        wanted.is_valid(raise_exception=True)
        return self.answer(update_policy(policy, **wanted.validated_data))

    @extend_schema(
        summary="Change part of an identity policy",
        request=PolicyChangeSerializer,
        responses={200: IdentityPolicySerializer},
    )
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.update(request, *args, partial=True, **kwargs)

    def perform_destroy(self, instance: IdentityPolicy) -> None:
        delete_policy(instance)

    @extend_schema(
        summary="Attach an identity policy to a user or group of the organization",
        request=AttachmentSerializer,
        responses={200: IdentityPolicySerializer},
    )
    @action(detail=True, methods=["post"])
    def attach(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        policy = self.get_object()
        wanted = AttachmentSerializer(data=request.data)
        wanted.is_valid(raise_exception=True)
        attach_policy(policy, attached_by=request.user, **wanted.validated_data)
        return self.answer(self.get_queryset().get(pk=policy.pk))

    @extend_schema(
        summary="Detach an identity policy from a user or group",
        request=AttachmentSerializer,
        responses={200: IdentityPolicySerializer},
    )
    @action(detail=True, methods=["post"])
    def detach(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        policy = self.get_object()
        wanted = AttachmentSerializer(data=request.data)
        wanted.is_valid(raise_exception=True)
        detach_policy(policy, **wanted.validated_data)
        return self.answer(self.get_queryset().get(pk=policy.pk))
