"""The native credentials API: one space, one access level, a short lifetime, JSON back."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from accessgrants.vending.issuing import issue, longest_lifetime_minutes
from connections.storage import Access, Target, with_active_connection
from portal.tenancy.models import Space
from portal.tenancy.scoped import SpaceScopedView


class CredentialRequestSerializer(serializers.Serializer):
    access = serializers.ChoiceField(choices=Access.choices)
    target = serializers.ChoiceField(
        choices=Target.choices,
        default=Target.SPACE,
        help_text="'loadingzone' opens the organization's loadingzone for an upload to this space.",
    )
    lifetime_minutes = serializers.IntegerField(
        required=False, min_value=1, help_text="Defaults per access level; at most the configured maximum."
    )
    min_remaining_minutes = serializers.IntegerField(
        required=False,
        min_value=0,
        help_text="Reuse an earlier credential only if it has more than this many minutes left: for tools that "
        "refresh a set time before expiry (the AWS SDKs: 15 minutes).",
    )
    object_keys = serializers.ListField(
        child=serializers.CharField(max_length=1024),
        required=False,
        max_length=100,
        help_text="For stores without STS: the objects (relative to the space) to presign.",
    )

    def validate_lifetime_minutes(self, value: int) -> int:
        """Bounded here, before any arithmetic (see :func:`longest_lifetime_minutes`)."""
        longest = longest_lifetime_minutes()
        if value > longest:
            raise serializers.ValidationError(f"Ask for at most {longest} minutes.")
        return value

    def validate_min_remaining_minutes(self, value: int) -> int:
        longest = longest_lifetime_minutes()
        if value > longest:
            raise serializers.ValidationError(f"Ask for at most {longest} minutes.")
        return value


class CredentialSerializer(serializers.Serializer):
    provider = serializers.CharField()
    kind = serializers.CharField(help_text="azure_sas, aws_sts, gcp_downscoped_token or s3_presigned_urls")
    access = serializers.CharField()
    target = serializers.CharField()
    expires_at = serializers.DateTimeField()
    location = serializers.DictField(child=serializers.CharField())
    credentials = serializers.DictField(help_text="The credential material: shown in this answer only.")
    snippets = serializers.DictField(child=serializers.CharField(), help_text="Ready-to-use configuration.")
    cached = serializers.BooleanField(help_text="Whether an earlier, still valid credential was reused.")


class SpaceCredentialsView(SpaceScopedView):
    """Credentials that can do exactly what the caller's role allows, in exactly this space, for a short time.

    The space must be one the caller sees; what they may do in it is decided by ``issue``, which
    refuses (403) and records the refusal.
    """

    audit_name = "credential"

    def spaces(self) -> QuerySet[Space]:
        return with_active_connection(Space.objects.all())

    @extend_schema(
        summary="Get credentials for a space",
        request=CredentialRequestSerializer,
        responses={201: CredentialSerializer},
        parameters=[
            OpenApiParameter("organization_name", str, OpenApiParameter.PATH),
            OpenApiParameter("space_name", str, OpenApiParameter.PATH),
        ],
    )
    def post(self, request: Request, organization_name: str, space_name: str) -> Response:
        wanted = CredentialRequestSerializer(data=request.data)
        wanted.is_valid(raise_exception=True)
        data: dict[str, Any] = dict(wanted.validated_data)
        space = self.space
        lifetime = timedelta(minutes=data["lifetime_minutes"]) if "lifetime_minutes" in data else None
        issued = issue(
            self.access,
            space,
            access=data["access"],
            user=request.user,
            target=data["target"],
            lifetime=lifetime,
            object_keys=tuple(data.get("object_keys", ())),
            min_remaining=timedelta(minutes=data["min_remaining_minutes"]) if "min_remaining_minutes" in data else None,
        )
        credential = issued.credential
        body = {
            "provider": credential.provider,
            "kind": credential.kind,
            "access": credential.access,
            "target": data["target"],
            "expires_at": credential.expires_at,
            "location": credential.location,
            "credentials": credential.secret,
            "snippets": credential.snippets,
            "cached": issued.cached,
        }
        return Response(body, status=status.HTTP_201_CREATED, headers={"Cache-Control": "no-store"})
