"""The policy simulator: what would Spaceport answer this user, and which statements decide it.

Organization admins ask about the organization's own buckets and the users who belong to it;
platform admins about anyone. The answer comes from :mod:`accessgrants.decisions`, the same code
the S3 gateway asks, so the simulator cannot disagree with it.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from accessgrants.api.policy_serializers import (
    DecisionSerializer,
    SimulationSerializer,
    SpaceAbilitiesSerializer,
    SpaceSimulationSerializer,
)
from accessgrants.decisions import abilities, decide
from accessgrants.identitypolicies import organization_users
from accessgrants.policies import Decision
from accessgrants.policies.buckets import bucket_name, bucket_prefix, resource_path
from portal.core.errors import DomainError
from portal.tenancy.scoped import OrganizationScopedView

SIMULATORS_ONLY = "Only the organization's owners and admins may simulate its policies."


def decision_answer(decision: Decision) -> dict[str, Any]:
    return {
        "decision": "allow" if decision.allowed else "deny",
        "outcome": str(decision.outcome),
        "statements": [
            {"policy": ref.policy, "sid": ref.sid, "index": ref.index, "effect": ref.effect}
            for ref in decision.statements
        ],
        "reason": decision.reason,
    }


class SimulatorView(OrganizationScopedView):
    administrators_only = True
    administrators_refusal = SIMULATORS_ONLY
    audit_name = "policy.simulate"

    def write_action(self) -> str:
        return self.audit_name

    def check_user(self, user: Any) -> None:
        """An organization admin asks only about people of their organization."""
        if self.access.platform_admin:
            return
        if not get_user_model()._default_manager.filter(organization_users(self.organization), pk=user.pk).exists():
            raise DomainError(
                "user", f"No user of the organization has the e-mail address {user.email}.", "does_not_exist"
            )


class SimulateView(SimulatorView):
    @extend_schema(
        summary="Simulate a request against a user's policies",
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
        self.check_user(fields["user"])
        resource = fields["resource"]
        if not resource_path(resource).startswith(bucket_prefix(self.organization.name)):
            raise DomainError("resource", f"{resource} is no bucket of the organization {self.organization.name}.")
        decision = decide(
            fields["user"],
            fields["action"],
            resource,
            source_ip=fields.get("source_ip"),
            when=fields.get("time"),
            secure=fields["secure"],
            context=fields.get("facts"),
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
        user = fields["user"]
        self.check_user(user)
        space = self.organization.spaces.filter(name=fields["space"]).first()
        if space is None:
            raise DomainError(
                "space",
                f"The organization {self.organization.name} has no space named {fields['space']}.",
                "does_not_exist",
            )
        rows = abilities(
            user,
            space,
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
