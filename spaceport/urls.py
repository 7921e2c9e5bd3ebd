from __future__ import annotations

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from accessgrants.compat.s3keys import S3KeysView
from accessgrants.compat.urls import accessmanager_patterns
from commits.starting import start_accessmanager_commit
from portal.auth import wellknown
from spaceport import health, metrics

accessmanager = accessmanager_patterns(start_commit=start_accessmanager_commit)

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics.metrics, name="metrics"),
    path(".well-known/openid-configuration", wellknown.openid_configuration, name="oidc-discovery"),
    path(".well-known/jwks.json", wellknown.jwks, name="oidc-jwks"),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's start-up script from ``?script``, not inline: the CSP forbids inline script.
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(url_name="api-schema", template_name="api/docs.html"),
        name="api-docs",
    ),
    path("api/v1/", include("spaceport.api_urls")),
    path("api/s3keys/", S3KeysView.as_view(), name="vast-s3keys"),
    path("api/v2.0/accessmanager/", include(accessmanager)),
    path("accessmanager/api/v2.0/accessmanager/", include(accessmanager)),
    path("", include("connections.urls")),
    path("", include("commits.urls")),
    path("", include("accessgrants.urls")),
    path("", include("spaceport.page_urls")),
]
