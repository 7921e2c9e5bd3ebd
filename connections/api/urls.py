from __future__ import annotations

from django.urls import path

from connections.api.views import ConnectionMethodsView, ConnectionViewSet

connections = ConnectionViewSet.as_view({"get": "list", "post": "create"})
connection = ConnectionViewSet.as_view({"get": "retrieve", "patch": "partial_update"})
PREFIX = "organizations/<str:organization_name>/connections/"

urlpatterns = [
    path("connection-methods/", ConnectionMethodsView.as_view(), name="connection-methods"),
    path(PREFIX, connections, name="connection-list"),
    path(f"{PREFIX}<str:name>/", connection, name="connection-detail"),
    path(f"{PREFIX}<str:name>/validate/", ConnectionViewSet.as_view({"post": "validate"}), name="connection-validate"),
    path(f"{PREFIX}<str:name>/disable/", ConnectionViewSet.as_view({"post": "disable"}), name="connection-disable"),
    path(f"{PREFIX}<str:name>/enable/", ConnectionViewSet.as_view({"post": "enable"}), name="connection-enable"),
    path(
        f"{PREFIX}<str:name>/instructions/",
        ConnectionViewSet.as_view({"get": "instructions"}),
        name="connection-instructions",
    ),
    path(f"{PREFIX}<str:name>/report/", ConnectionViewSet.as_view({"get": "report"}), name="connection-report"),
]
