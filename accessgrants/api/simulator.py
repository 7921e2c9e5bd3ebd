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
from accessgrants.simulation import decision_answer, key_subject, simulate, space_table
from portal.tenancy.scoped import OrganizationScopedView

SIMULATORS_ONLY = "Only the organization's owners and admins may simulate its policies."


class SimulatorView(OrganizationScopedView):
    administrators_only = True
    administrators_refusal = SIMULATORS_ONLY
    audit_name = "policy.simulate"

    def write_action(self) -> str:
        return self.audit_name

    def subject(self, fields: dict[str, Any]) -> Any:
        """The user asked about, named directly or by one of the organization's access keys."""
        return fields.get("user") or key_subject(self.organization, fields["access_key"])


class SimulateView(SimulatorView):
    @extend_schema(
        summary="Simulate a request against the policies of a user or an access key",
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
            self.subject(fields),
            fields["action"],
            fields["resource"],
            platform_admin=self.access.platform_admin,
            source_ip=fields.get("source_ip"),
            when=fields.get("time"),
            secure=fields["secure"],
            facts=fields.get("facts"),
        )
        return Response(decision_answer(decision))


class SpaceAbilitiesView(SimulatorView):
    @extend_schema(
        summary="What a user may do in a space",
        description="Every S3 action, asked on the space's bucket or on `<bucket>/<key>` for object actions.",
        request=SpaceSimulationSerializer,
        responses={200: SpaceAbilitiesSerializer},
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        question = SpaceSimulationSerializer(data=request.data)
        question.is_valid(raise_exception=True)
        fields = question.validated_data
        user = self.subject(fields)
        space, rows = space_table(
            self.organization,
            user,
            fields["space"],
            platform_admin=self.access.platform_admin,
            key=fields["key"],
            source_ip=fields.get("source_ip"),
            when=fields.get("time"),
            secure=fields["secure"],
        )
        return Response(
            {
                "user": user.email,
                "space": space.name,
                "bucket": bucket_name(self.organization.name, space.name),
                "actions": [
                    {"action": action, "resource": resource, **decision_answer(decision)}
                    for action, resource, decision in rows
                ],
            }
        )
