"""The commit card (space page) and webhook card (organization page), which the page views do not know about."""

from __future__ import annotations

from typing import Any

from django import template

from commits.views import CARD_TEMPLATE, WEBHOOK_TEMPLATE, card_context, webhook_context
from portal.tenancy.models import Organization, Space

register = template.Library()


@register.inclusion_tag(CARD_TEMPLATE, takes_context=True)
def commit_card(context: dict[str, Any], space: Space) -> dict[str, Any]:
    return card_context(context["request"], space)


@register.inclusion_tag(WEBHOOK_TEMPLATE, takes_context=True)
def webhook_card(context: dict[str, Any], organization: Organization) -> dict[str, Any]:
    return webhook_context(context["request"], organization)
