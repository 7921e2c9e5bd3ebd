"""Server-rendered pages: dashboard, organizations, spaces, personal API tokens."""

from __future__ import annotations

from django.urls import path

from accessgrants.views import space_credentials
from portal.auth import views as tokens
from portal.tenancy import views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("account/tokens/", tokens.token_list, name="api_tokens"),
    path("account/tokens/<int:token_id>/revoke/", tokens.token_revoke, name="api_token_revoke"),
    path("o/new/", views.organization_create, name="organization_create"),
    path("o/<str:name>/", views.organization_detail, name="organization"),
    path("o/<str:name>/settings/", views.organization_update, name="organization_update"),
    path("o/<str:name>/spaces/new/", views.space_create, name="space_create"),
    path("o/<str:name>/grants/new/", views.grant_create, name="grant_create"),
    path("o/<str:name>/grants/<int:grant_id>/revoke/", views.grant_revoke, name="grant_revoke"),
    path("o/<str:organization>/s/<str:space>/", views.space_detail, name="space"),
    path("o/<str:organization>/s/<str:space>/settings/", views.space_update, name="space_update"),
    path(
        "o/<str:organization>/s/<str:space>/credentials/",
        space_credentials,
        {"page": views.space_detail},
        name="space_credentials",
    ),
    path("o/<str:organization>/s/<str:space>/delete/", views.space_mark_for_deletion, name="space_mark_for_deletion"),
]
