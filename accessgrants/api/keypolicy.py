"""An organization's key policy over REST: whether keys are issued at once or on approval, and their
longest lifetime. Its owners and admins (and platform admins) read and change it."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from accessgrants.accesskeys import key_policy, max_days, set_key_policy
from accessgrants.models import KeyPolicy
from portal.tenancy.scoped import OrganizationScopedView


class KeyPolicySerializer(serializers.Serializer):
    approval_required = serializers.BooleanField(help_text="Keys need an organization admin's approval.")
    max_days = serializers.IntegerField(
        allow_null=True, required=False, min_value=1, help_text="The organization's cap on a key's lifetime."
    )
    effective_max_days = serializers.IntegerField(
        read_only=True, allow_null=True, help_text="The cap that applies: the shorter of this and the platform's."
    )


def _answer(policy: KeyPolicy) -> dict[str, Any]:
    return {
        "approval_required": policy.approval_required,
        "max_days": policy.max_days,
        "effective_max_days": max_days(policy.organization),
    }


class KeyPolicyView(OrganizationScopedView):
    administrators_only = True
    audit_name = "keypolicy"

    @extend_schema(summary="Show an organization's key policy", responses={200: KeyPolicySerializer})
    def get(self, request: Request, organization_name: str) -> Response:
        return Response(_answer(key_policy(self.organization)))

    @extend_schema(
        summary="Set an organization's key policy",
        request=KeyPolicySerializer,
        responses={200: KeyPolicySerializer},
    )
    def put(self, request: Request, organization_name: str) -> Response:
        wanted = KeyPolicySerializer(data=request.data)
        wanted.is_valid(raise_exception=True)
        values = wanted.validated_data
        policy = set_key_policy(
            self.organization, approval_required=values["approval_required"], max_days=values.get("max_days")
        )
        return Response(_answer(policy))
