"""The connections API: create, list, read, update, disable, validate (202), and the report.

Which transition a connection's state allows is decided in :mod:`connections.lifecycle`; its
refusals are domain errors the API's error handler answers (400, code and message on ``status``).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from django.db.models import QuerySet
from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from connections import instructions, lifecycle
from connections.api.serializers import (
    ConnectionSerializer,
    ConnectionWriteSerializer,
    InstructionSerializer,
    MethodSerializer,
    ReportSerializer,
    method_catalogue,
)
from connections.models import CloudConnection
from connections.providers.spec import ConnectionInputError
from portal.tenancy.access import PortalApiView
from portal.tenancy.scoped import OrganizationScopedViewSet

ORGANIZATION_PATH = OpenApiParameter("organization_name", str, OpenApiParameter.PATH, description="Organization name")
NAME_PATH = OpenApiParameter("name", str, OpenApiParameter.PATH, description="Connection name")


def _input_error(exc: ConnectionInputError) -> serializers.ValidationError:
    top_level = {"name", "method", "status"}
    return serializers.ValidationError({(k if k in top_level else f"values.{k}"): [v] for k, v in exc.errors.items()})


@extend_schema_view(
    list=extend_schema(summary="List an organization's connections", parameters=[ORGANIZATION_PATH]),
    retrieve=extend_schema(summary="Read a connection (never its secret)", parameters=[ORGANIZATION_PATH, NAME_PATH]),
    create=extend_schema(
        summary="Create a connection and start validating it",
        request=ConnectionWriteSerializer,
        responses={201: ConnectionSerializer},
        parameters=[ORGANIZATION_PATH],
    ),
    partial_update=extend_schema(
        summary="Change a connection's settings (secret fields left out keep their value) and validate again",
        request=ConnectionWriteSerializer,
        responses={200: ConnectionSerializer},
        parameters=[ORGANIZATION_PATH, NAME_PATH],
    ),
)
class ConnectionViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    OrganizationScopedViewSet,
):
    """An organization's storage connections; its owners and admins manage them."""

    serializer_class = ConnectionSerializer
    lookup_field = "name"
    audit_name = "cloudconnection"
    http_method_names = ["get", "post", "patch", "head", "options"]
    filterset_fields = ["provider", "method", "status"]
    search_fields = ["name", "status_message"]
    ordering = ["name"]

    administrators_only = True
    administrators_refusal = "Only the organization's owners and admins may see and manage its connections."

    def get_queryset(self) -> QuerySet[CloudConnection]:
        if getattr(self, "swagger_fake_view", False):
            return CloudConnection.objects.none()
        return CloudConnection.objects.filter(organization=self.organization).select_related("organization")

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        write = ConnectionWriteSerializer(data=request.data)
        write.is_valid(raise_exception=True)
        data = write.validated_data
        missing = {f: ["This field is required."] for f in ("name", "method") if f not in data}
        if missing:
            raise serializers.ValidationError(missing)
        try:
            connection = lifecycle.create_connection(
                self.organization,
                name=data["name"],
                method=data["method"],
                values=data.get("values", {}),
                created_by=request.user,
                validate=data["validate_now"],
            )
        except ConnectionInputError as exc:
            raise _input_error(exc) from None
        return Response(ConnectionSerializer(connection).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        connection = self.get_object()
        write = ConnectionWriteSerializer(data=request.data, partial=True)
        write.is_valid(raise_exception=True)
        data = write.validated_data
        if "method" in data and data["method"] != connection.method:
            raise serializers.ValidationError({"method": ["The method cannot change; create another connection."]})
        values = data.get("values")
        if values is None:
            values = dict(connection.config)
        try:
            lifecycle.update_connection(
                connection, values=values, name=data.get("name"), validate=data.get("validate_now", True)
            )
        except ConnectionInputError as exc:
            raise _input_error(exc) from None
        return Response(ConnectionSerializer(connection).data)

    @extend_schema(
        summary="Validate the connection now",
        request=None,
        responses={202: ConnectionSerializer},
        parameters=[ORGANIZATION_PATH, NAME_PATH],
    )
    @action(detail=True, methods=["post"])
    def validate(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        connection = self.get_object()
        try:
            lifecycle.start_validation(connection)
        except ConnectionInputError as exc:
            raise _input_error(exc) from None
        report_url = reverse(
            "connection-report", kwargs={"organization_name": self.organization.name, "name": connection.name}
        )
        return Response(
            {**ConnectionSerializer(connection).data, "status_url": report_url},
            status=status.HTTP_202_ACCEPTED,
            headers={"Location": report_url},
        )

    @extend_schema(
        summary="Disable the connection",
        description=(
            "Spaceport stops using the connection at once. Azure SAS tokens signed with the account key are "
            "revoked (their stored access policies are removed; Azure applies this within 30 seconds). Every "
            "other credential already issued (user-delegation SAS, AWS STS credentials, GCS downscoped tokens, "
            "presigned URLs) stays valid until it expires, at most the configured longest lifetime per access "
            "level (GCS: one hour)."
        ),
        request=None,
        responses={200: ConnectionSerializer},
        parameters=[ORGANIZATION_PATH, NAME_PATH],
    )
    @action(detail=True, methods=["post"])
    def disable(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        connection = lifecycle.disable_connection(self.get_object(), f"Disabled by {request.user}.")
        return Response(ConnectionSerializer(connection).data)

    @extend_schema(
        summary="Enable a disabled connection (validates it again)",
        request=None,
        responses={202: ConnectionSerializer},
        parameters=[ORGANIZATION_PATH, NAME_PATH],
    )
    @action(detail=True, methods=["post"])
    def enable(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        connection = self.get_object()
        try:
            lifecycle.enable_connection(connection)
        except ConnectionInputError as exc:
            raise _input_error(exc) from None
        return Response(ConnectionSerializer(connection).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        summary="What to do on the cloud side: policies and commands filled in for this connection",
        responses={200: InstructionSerializer(many=True)},
        parameters=[ORGANIZATION_PATH, NAME_PATH],
    )
    @action(detail=True, methods=["get"])
    def instructions(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response([asdict(step) for step in instructions.for_connection(self.get_object())])

    @extend_schema(
        summary="The last validation report",
        responses={200: ReportSerializer},
        parameters=[ORGANIZATION_PATH, NAME_PATH],
    )
    @action(detail=True, methods=["get"])
    def report(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        connection = self.get_object()
        return Response(
            {
                "status": connection.status,
                "status_message": connection.status_message,
                "validated_at": connection.validated_at,
                "report": connection.validation_report,
            }
        )


class ConnectionMethodsView(PortalApiView):
    """Every connection method with its fields, what it asks of the customer, and its risk."""

    @extend_schema(summary="List the connection methods", responses={200: MethodSerializer(many=True)})
    def get(self, request: Request) -> Response:
        return Response(method_catalogue())
