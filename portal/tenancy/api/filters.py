"""Query filters for the API's lists; names match the fields clients see in the answers."""

from __future__ import annotations

from django.db.models import QuerySet
from django_filters import rest_framework as filters

from portal.audit.models import AuditEvent
from portal.tenancy.models import Confidentiality, Organization, Space, State


def with_tag(queryset: QuerySet, name: str, value: str) -> QuerySet:
    """Tags are a JSON list; a row matches when one of its tags is exactly ``value``."""
    return queryset.filter(tags__has_element=value)


class OrganizationFilter(filters.FilterSet):
    confidentiality = filters.ChoiceFilter(choices=Confidentiality.choices)
    state = filters.ChoiceFilter(choices=State.choices)
    tag = filters.CharFilter(method=with_tag, label="Organizations carrying this tag.")

    class Meta:
        model = Organization
        fields = ["confidentiality", "state", "tag"]


class SpaceFilter(filters.FilterSet):
    organization = filters.CharFilter(field_name="organization__name", label="The organization's name.")
    confidentiality = filters.ChoiceFilter(choices=Confidentiality.choices)
    state = filters.ChoiceFilter(choices=State.choices)
    tag = filters.CharFilter(method=with_tag, label="Spaces carrying this tag.")

    class Meta:
        model = Space
        fields = ["organization", "confidentiality", "state", "tag"]


class AuditEventFilter(filters.FilterSet):
    action = filters.CharFilter(label="The action, such as grant.create.")
    action_prefix = filters.CharFilter(field_name="action", lookup_expr="startswith", label="Actions starting so.")
    outcome = filters.ChoiceFilter(choices=AuditEvent.Outcome.choices)
    organization = filters.CharFilter(field_name="organization_name", label="The organization's name.")
    actor = filters.CharFilter(field_name="actor_label", lookup_expr="iexact", label="The actor's e-mail address.")
    target_type = filters.CharFilter(label="The target's model, such as portal.space.")
    target_id = filters.CharFilter()
    request_id = filters.CharFilter()
    since = filters.IsoDateTimeFilter(field_name="time", lookup_expr="gte", label="Events at or after this time.")
    until = filters.IsoDateTimeFilter(field_name="time", lookup_expr="lt", label="Events before this time.")

    class Meta:
        model = AuditEvent
        fields = [
            "action",
            "action_prefix",
            "outcome",
            "organization",
            "actor",
            "target_type",
            "target_id",
            "request_id",
            "since",
            "until",
        ]
