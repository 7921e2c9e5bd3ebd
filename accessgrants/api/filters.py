"""Filters for the grant list, by the names the answers show."""

from __future__ import annotations

from django_filters import rest_framework as filters

from portal.tenancy.grants import Grant, Role, Scope, Source


class GrantFilter(filters.FilterSet):
    organization = filters.CharFilter(field_name="organization__name", label="The organization's name.")
    space = filters.CharFilter(field_name="space__name", label="The space's name.")
    user = filters.CharFilter(field_name="user__email", lookup_expr="iexact", label="The user's e-mail address.")
    group = filters.CharFilter(field_name="group__name", label="The group's name.")
    role = filters.ChoiceFilter(choices=Role.choices)
    scope = filters.ChoiceFilter(choices=Scope.choices)
    source = filters.ChoiceFilter(choices=Source.choices)

    class Meta:
        model = Grant
        fields = ["organization", "space", "user", "group", "role", "scope", "source"]
