"""The space page's "Get access" card, which the page view does not need to know about."""

from __future__ import annotations

from typing import Any

from django import template

from accessgrants.views import CARD_TEMPLATE, card_context
from portal.tenancy.models import Space

register = template.Library()


@register.inclusion_tag(CARD_TEMPLATE, takes_context=True)
def credential_card(context: dict[str, Any], space: Space) -> dict[str, Any]:
    """The card as the person's roles allow it, or as a POST to it left it (an issued credential, a refusal)."""
    return card_context(context["request"], space)
