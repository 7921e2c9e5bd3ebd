from __future__ import annotations

from django.urls import path
from rest_framework.routers import SimpleRouter

from accessgrants.api.credentials import SpaceCredentialsView
from accessgrants.api.views import GrantViewSet

router = SimpleRouter()
router.register("grants", GrantViewSet, basename="grant")

urlpatterns = [
    path(
        "organizations/<str:organization_name>/spaces/<str:space_name>/credentials/",
        SpaceCredentialsView.as_view(),
        name="space-credentials",
    ),
    *router.urls,
]
