"""Template helpers for storage connections: the organization page's storage card and cloud marks."""

from __future__ import annotations

from typing import Any

from django import template

from connections.active import active_connection_id
from connections.clouds import cloud_of
from connections.providers.registry import known_provider
from connections.spaces import missing_storage
from portal.tenancy.access import access_for
from portal.tenancy.models import Organization, Space

register = template.Library()


@register.filter
def cloud_mark(provider: str) -> str:
    """The short mark that stands in for a cloud's logo, so no third-party artwork ships with Spaceport."""
    cloud = cloud_of(provider)
    return cloud.mark if cloud is not None else provider[:3].upper()


@register.filter
def provider_label(provider: str) -> str:
    """The provider's name for people; the stored value when no registered provider has it."""
    descriptor = known_provider(provider)
    return descriptor.label if descriptor is not None else provider


@register.inclusion_tag("connections/_storage_card.html", takes_context=True)
def storage_card(context: dict[str, Any], organization: Organization) -> dict[str, Any]:
    """The organization's connections with their status; only its owners and admins see them."""
    request = context.get("request")
    administers = request is not None and access_for(request).may_administer(organization)
    connections = list(organization.connections.order_by("name")) if administers else []
    return {
        "organization": organization,
        "administers": administers,
        "connections": connections,
        "primary_id": active_connection_id(organization),
    }


@register.inclusion_tag("connections/_space_storage.html")
def space_storage(space: Space) -> dict[str, Any]:
    """A notice on the space page while the space's own storage (an Azure container) is missing."""
    return {"space": space, "storage": missing_storage(space)}
