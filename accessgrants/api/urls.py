from __future__ import annotations

from django.urls import path
from rest_framework.routers import SimpleRouter

from accessgrants.api.accesskeys import AccessKeyViewSet, KeyRequestViewSet, OrganizationKeyRequestViewSet
from accessgrants.api.credentials import SpaceCredentialsView
from accessgrants.api.keypolicy import KeyPolicyView
from accessgrants.api.policies import IdentityPolicyViewSet
from accessgrants.api.simulator import SimulateView, SpaceAbilitiesView
from accessgrants.api.views import GrantViewSet

router = SimpleRouter()
router.register("grants", GrantViewSet, basename="grant")
router.register("keys", AccessKeyViewSet, basename="access-key")
router.register("key-requests", KeyRequestViewSet, basename="key-request")

policies = IdentityPolicyViewSet.as_view({"get": "list", "post": "create"})
policy = IdentityPolicyViewSet.as_view(
    {"get": "retrieve", "put": "update", "patch": "partial_update", "delete": "destroy"}
)

urlpatterns = [
    path(
        "organizations/<str:organization_name>/spaces/<str:space_name>/credentials/",
        SpaceCredentialsView.as_view(),
        name="space-credentials",
    ),
    path("organizations/<str:organization_name>/policies/", policies, name="identity-policy-list"),
    path("organizations/<str:organization_name>/policies/<str:name>/", policy, name="identity-policy-detail"),
    path(
        "organizations/<str:organization_name>/policies/<str:name>/attach/",
        IdentityPolicyViewSet.as_view({"post": "attach"}),
        name="identity-policy-attach",
    ),
    path(
        "organizations/<str:organization_name>/policies/<str:name>/detach/",
        IdentityPolicyViewSet.as_view({"post": "detach"}),
        name="identity-policy-detach",
    ),
    path(
        "organizations/<str:organization_name>/key-requests/",
        OrganizationKeyRequestViewSet.as_view({"get": "list"}),
        name="organization-key-request-list",
    ),
    path("organizations/<str:organization_name>/key-policy/", KeyPolicyView.as_view(), name="key-policy"),
    path("organizations/<str:organization_name>/simulate/", SimulateView.as_view(), name="policy-simulate"),
    path(
        "organizations/<str:organization_name>/simulate/space/",
        SpaceAbilitiesView.as_view(),
        name="policy-simulate-space",
    ),
    *router.urls,
]
