"""The policy simulator over REST; what may be asked and the answer are :mod:`accessgrants.simulation`'s."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from accessgrants.api.policy_serializers import (
    DecisionSerializer,
    SimulationSerializer,
    SpaceAbilitiesSerializer,
    SpaceSimulationSerializer,
)
from accessgrants.policies.buckets import bucket_name
from accessgrants.simulation import decision_answer, owner_of, simulate, space_table
from portal.tenancy.scoped import OrganizationScopedView

SIMULATORS_ONLY = "Only the organization's owners and admins may simulate its policies."


class SimulatorView(OrganizationScopedView):
    administrators_only = True
    administrators_refusal = SIMULATORS_ONLY
    audit_name = "policy.simulate"

    def write_action(self) -> str:
        return self.audit_name


class SimulateView(SimulatorView):
    @extend_schema(
        summary="Simulate a request against a user's policies, or an access key's",
        description="Allow or deny, with the statements that decided: the Deny that won, the Allows that "
        "matched, or none (no statement allowed it). Space roles take part as implied policies "
        "(the policy named `space roles`).",
        request=SimulationSerializer,
        responses={200: DecisionSerializer},
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        question = SimulationSerializer(data=request.data)
        question.is_valid(raise_exception=True)
        fields = question.validated_data
        decision = simulate(
            self.organization,
            fields.get("user"),
            fields["action"],
            fields["resource"],
            platform_admin=self.access.platform_admin,
            access_key=fields.get("access_key") or None,
            source_ip=fields.get("source_ip"),
            when=fields.get("time"),
            secure=fields["secure"],
            facts=fields.get("facts"),
        )
        return Response(decision_answer(decision))


class SpaceAbilitiesView(SimulatorView):
    @extend_schema(
        summary="What a user, or an access key, may do in a space",
        description="Every S3 action, asked on the space's bucket or on `<bucket>/<key>` for object actions.",
        request=SpaceSimulationSerializer,
        responses={200: SpaceAbilitiesSerializer},
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        question = SpaceSimulationSerializer(data=request.data)
        question.is_valid(raise_exception=True)
        fields = question.validated_data
        access_key = fields.get("access_key") or None
        space, rows = space_table(
            self.organization,
            fields.get("user"),
            fields["space"],
            platform_admin=self.access.platform_admin,
            access_key=access_key,
            key=fields["key"],
            source_ip=fields.get("source_ip"),
            when=fields.get("time"),
            secure=fields["secure"],
        )
        user = fields.get("user") or owner_of(access_key or "")
        return Response(
            {
                "user": user.email,
                **({"access_key": access_key} if access_key else {}),
                "space": space.name,
                "bucket": bucket_name(self.organization.name, space.name),
                "actions": [
                    {"action": action, "resource": resource, **decision_answer(decision)}
                    for action, resource, decision in rows
                ],
            }
        )
