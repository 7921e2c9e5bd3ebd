"""The REST API, version 1: mounted at ``/api/v1/``.

The last pattern only matches paths ending in a slash, so Django's ``APPEND_SLASH`` redirect
still works for the others.
"""

from __future__ import annotations

from django.urls import include, path, re_path
from rest_framework.routers import SimpleRouter

from portal.auth.api import ApiTokenViewSet, MeView
from portal.tenancy.api.views import (
    AuditEventViewSet,
    OrganizationSpaceViewSet,
    OrganizationViewSet,
    SpaceViewSet,
    UnknownEndpointView,
)

router = SimpleRouter()
router.register("organizations", OrganizationViewSet, basename="organization")
router.register("spaces", SpaceViewSet, basename="space")
router.register("audit-events", AuditEventViewSet, basename="auditevent")
router.register("tokens", ApiTokenViewSet, basename="apitoken")

organization_spaces = OrganizationSpaceViewSet.as_view({"get": "list", "post": "create"})
organization_space = OrganizationSpaceViewSet.as_view(
    {"get": "retrieve", "patch": "partial_update", "delete": "destroy"}
)

urlpatterns = [
    path("me/", MeView.as_view(), name="me"),
    path("organizations/<str:organization_name>/spaces/", organization_spaces, name="organization-space-list"),
    path(
        "organizations/<str:organization_name>/spaces/<str:name>/",
        organization_space,
        name="organization-space-detail",
    ),
    *router.urls,
    path("", include("accessgrants.api.urls")),
    path("", include("commits.api.urls")),
    path("", include("connections.api.urls")),
    re_path(r"^.*/$", UnknownEndpointView.as_view(), name="unknown-endpoint"),
]
