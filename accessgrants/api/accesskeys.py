"""The caller's own S3 access keys, and requests for keys, over REST.

Keys are only ever the caller's own: another user's key answers 404, as one that does not exist.
Requests are seen by their requester and by the admins of their organization, who approve or
decline them; the requester withdraws or collects. The rules are :mod:`accessgrants.accesskeys`'
and :mod:`accessgrants.keyrequests`'; these views only read the input and shape the answers.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from accessgrants.accesskeys import deactivate_key, delete_key, reactivate_key, rotate_key
from accessgrants.api.key_serializers import (
    AccessKeySerializer,
    DecisionSerializer,
    IssuedKeySerializer,
    KeyRequestSerializer,
    NewKeyRequestSerializer,
    NewKeySerializer,
)
from accessgrants.keyrequests import (
    approve_request,
    collect_key,
    decline_request,
    issue_directly,
    organization_for,
    request_key,
    withdraw_request,
)
from accessgrants.models import AccessKey, KeyRequest
from portal.tenancy.scoped import OrganizationScopedViewSet, ScopedViewSet


@extend_schema_view(
    list=extend_schema(summary="List your S3 access keys", description="Never with their secrets."),
    retrieve=extend_schema(summary="Show one of your S3 access keys"),
    destroy=extend_schema(summary="Delete one of your S3 access keys"),
)
class AccessKeyViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, ScopedViewSet):
    serializer_class = AccessKeySerializer
    lookup_field = "access_key_id"
    lookup_url_kwarg = "access_key_id"
    ordering_fields = ["created", "expires", "last_used"]
    search_fields = ["description", "access_key_id"]
    filterset_fields = ["status"]
    audit_name = "accesskey"

    def get_queryset(self) -> QuerySet[AccessKey]:
        keys = AccessKey.objects.select_related("organization", "user")
        if getattr(self, "swagger_fake_view", False):
            return keys.none()
        return keys.filter(user=self.caller)

    def may_change(self, obj: Any) -> bool:
        return bool(obj.user_id == self.caller.pk)

    def hidden_object(self) -> AccessKey | None:
        return AccessKey.objects.filter(access_key_id=self.kwargs.get("access_key_id")).first()

    @extend_schema(
        summary="Make an S3 access key now",
        description="Where the organization issues keys at once; where it needs an admin's approval, 403 "
        "says to request one. The secret is in this answer only. At most "
        "`SPACEPORT_MAX_ACCESS_KEYS_PER_USER` active keys.",
        request=NewKeySerializer,
        responses={201: IssuedKeySerializer},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        wanted = NewKeySerializer(data=request.data)
        wanted.is_valid(raise_exception=True)
        values = wanted.validated_data
        organization = organization_for(self.access, values.get("organization"))
        issued = issue_directly(
            self.access,
            self.caller,
            organization,
            description=values["description"],
            lifetime_days=values["lifetime_days"],
        )
        return Response(IssuedKeySerializer.of(issued), status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance: AccessKey) -> None:
        delete_key(instance.pk)

    @extend_schema(summary="Deactivate one of your S3 access keys", request=None, responses={200: AccessKeySerializer})
    @action(detail=True, methods=["post"])
    def deactivate(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(AccessKeySerializer(deactivate_key(self.get_object().pk)).data)

    @extend_schema(
        summary="Reactivate one of your S3 access keys",
        description="Within the limit of active keys, and not once it expired.",
        request=None,
        responses={200: AccessKeySerializer},
    )
    @action(detail=True, methods=["post"])
    def reactivate(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(AccessKeySerializer(reactivate_key(self.get_object().pk)).data)

    @extend_schema(
        summary="Rotate one of your S3 access keys",
        description="A new key now (its secret in this answer only); the old key keeps working for "
        "`SPACEPORT_ACCESS_KEY_ROTATION_GRACE_HOURS` and then stops. Allowed at the limit of keys.",
        request=None,
        responses={201: IssuedKeySerializer},
    )
    @action(detail=True, methods=["post"])
    def rotate(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        issued = rotate_key(self.get_object().pk)
        return Response(IssuedKeySerializer.of(issued), status=status.HTTP_201_CREATED)


REQUESTER_ACTIONS = ("withdraw", "collect")
DECIDER_ACTIONS = ("approve", "decline")


@extend_schema_view(
    list=extend_schema(summary="List your requests for S3 access keys"),
    retrieve=extend_schema(summary="Show a request for an S3 access key"),
)
class KeyRequestViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """The caller's own requests; a request of an organization they run is reachable by its id too."""

    serializer_class = KeyRequestSerializer
    ordering_fields = ["created", "status"]
    filterset_fields = ["status"]
    audit_name = "keyrequest"

    def get_queryset(self) -> QuerySet[KeyRequest]:
        requests = KeyRequest.objects.select_related("organization", "requester", "decided_by", "key")
        if getattr(self, "swagger_fake_view", False):
            return requests.none()
        if self.action == "list":
            return requests.filter(requester=self.caller)
        return requests.filter(Q(requester=self.caller) | Q(organization__in=self.access.administered_organizations()))

    def may_change(self, obj: Any) -> bool:
        if self.action in REQUESTER_ACTIONS:
            return bool(obj.requester_id == self.caller.pk)
        return self.access.may_administer(obj.organization)

    def hidden_object(self) -> KeyRequest | None:
        wanted = str(self.kwargs.get("pk", ""))
        return KeyRequest.objects.filter(pk=int(wanted)).first() if wanted.isdigit() else None

    def answer(self, key_request: KeyRequest, code: int = status.HTTP_200_OK) -> Response:
        return Response(KeyRequestSerializer(key_request).data, status=code)

    @extend_schema(
        summary="Request an S3 access key",
        description="Where the organization issues keys at once, the request is approved as it is made; "
        "collect the key then.",
        request=NewKeyRequestSerializer,
        responses={201: KeyRequestSerializer},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        wanted = NewKeyRequestSerializer(data=request.data)
        wanted.is_valid(raise_exception=True)
        values = wanted.validated_data
        organization = organization_for(self.access, values.get("organization"))
        made = request_key(
            self.access, self.caller, organization, reason=values["reason"], lifetime_days=values["lifetime_days"]
        )
        return self.answer(made, status.HTTP_201_CREATED)

    @extend_schema(summary="Approve a request (the organization's admins)", request=DecisionSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        wanted = DecisionSerializer(data=request.data)
        wanted.is_valid(raise_exception=True)
        return self.answer(approve_request(self.access, self.caller, self.get_object(), **wanted.validated_data))

    @extend_schema(summary="Decline a request with a reason (the organization's admins)", request=DecisionSerializer)
    @action(detail=True, methods=["post"])
    def decline(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        wanted = DecisionSerializer(data=request.data)
        wanted.is_valid(raise_exception=True)
        return self.answer(decline_request(self.access, self.caller, self.get_object(), **wanted.validated_data))

    @extend_schema(summary="Withdraw your request", request=None)
    @action(detail=True, methods=["post"])
    def withdraw(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.answer(withdraw_request(self.access, self.caller, self.get_object()))

    @extend_schema(
        summary="Collect the key of your approved request",
        description="Once: the secret is in this answer only; a second collection is refused.",
        request=None,
        responses={201: IssuedKeySerializer},
    )
    @action(detail=True, methods=["post"])
    def collect(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        issued = collect_key(self.access, self.caller, self.get_object())
        return Response(IssuedKeySerializer.of(issued), status=status.HTTP_201_CREATED)


@extend_schema_view(list=extend_schema(summary="List an organization's requests for S3 access keys (its admins)"))
class OrganizationKeyRequestViewSet(mixins.ListModelMixin, OrganizationScopedViewSet):
    serializer_class = KeyRequestSerializer
    administrators_only = True
    filterset_fields = ["status"]
    ordering_fields = ["created", "status"]
    audit_name = "keyrequest"

    def get_queryset(self) -> QuerySet[KeyRequest]:
        requests = KeyRequest.objects.select_related("organization", "requester", "decided_by", "key")
        if getattr(self, "swagger_fake_view", False):
            return requests.none()
        return requests.filter(organization=self.organization)
