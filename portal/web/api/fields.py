"""Serializer fields every app's API shares."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers


@extend_schema_field(OpenApiTypes.EMAIL)
class UserEmailField(serializers.RelatedField):
    """A user named by e-mail address, the one identifier people and identity providers share."""

    default_error_messages = {
        "does_not_exist": "No active user has the e-mail address {value}.",
        "ambiguous": "More than one user has the e-mail address {value}; ask an administrator.",
        "invalid": "Give an e-mail address.",
    }

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("queryset", get_user_model().objects.filter(is_active=True))
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, str) or not data.strip():
            self.fail("invalid")
        users = get_user_model().objects.filter(is_active=True)
        matches = list(users.filter(email__iexact=data.strip())[:2])
        if not matches:
            self.fail("does_not_exist", value=data)
        if len(matches) > 1:
            self.fail("ambiguous", value=data)
        return matches[0]

    def to_representation(self, value: Any) -> str:
        return str(value.email)
