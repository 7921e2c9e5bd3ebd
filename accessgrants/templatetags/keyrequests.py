"""The organization page's card of pending key requests, which the page view does not need to know about."""

from __future__ import annotations

from typing import Any

from django import template

from accessgrants.accesskeys import key_policy
from accessgrants.keyforms import KeyPolicyForm
from accessgrants.models import KeyRequest
from portal.tenancy.access import access_for
from portal.tenancy.models import Organization

register = template.Library()


@register.inclusion_tag("keys/_requests_card.html", takes_context=True)
def key_requests_card(context: dict[str, Any], organization: Organization) -> dict[str, Any]:
    """The pending requests, for those who decide them; nothing for anyone else."""
    request = context["request"]
    decides = access_for(request).may_administer(organization)
    pending = (
        KeyRequest.objects.filter(organization=organization, status=KeyRequest.Status.REQUESTED)
        .select_related("requester")
        .order_by("created")
        if decides
        else KeyRequest.objects.none()
    )
    policy = key_policy(organization)
    policy_form = KeyPolicyForm(
        prefix="keypolicy", initial={"approval_required": policy.approval_required, "max_days": policy.max_days}
    )
    return {
        "request": request,
        "organization": organization,
        "decides": decides,
        "pending": pending,
        "policy_form": policy_form if decides else None,
    }
