"""Template helpers for the pages: labels for access levels and the organizations in the sidebar."""

from __future__ import annotations

from typing import Any

from django import template

from portal.tenancy.access import access_for

register = template.Library()

ACCESS_LABELS = {
    "delete": "Read · write · delete",
    "write": "Read · write",
    "read": "Read only",
    "none": "No data access",
}


@register.filter
def access_label(access: str) -> str:
    """Say in words what an effective access level allows, so a badge reads without a legend."""
    return ACCESS_LABELS.get(access, access)


@register.inclusion_tag("includes/sidebar_organizations.html", takes_context=True)
def sidebar_organizations(context: dict[str, Any], limit: int = 12) -> dict[str, Any]:
    """The organizations the signed-in person may see, for quick switching; the same rule as the dashboard."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if request is None or not getattr(user, "is_authenticated", False):
        return {"organizations": [], "more": False}
    organizations = list(access_for(request).visible_organizations().only("name", "display_name")[: limit + 1])
    match = getattr(request, "resolver_match", None)
    kwargs = match.kwargs if match is not None else {}
    current = kwargs.get("name") or kwargs.get("organization")
    return {"organizations": organizations[:limit], "more": len(organizations) > limit, "current": current}


@register.simple_tag(takes_context=True)
def signup_open(context: dict[str, Any]) -> bool:
    """Whether to offer "create an account": the same policy allauth applies when the form is posted."""
    from allauth.account.adapter import get_adapter

    request = context.get("request")
    return request is not None and bool(get_adapter(request).is_open_for_signup(request))
