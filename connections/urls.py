"""The onboarding wizard's pages, under the organization they belong to."""

from __future__ import annotations

from django.urls import path

from connections import views

PREFIX = "o/<str:name>/connections/"
ONE = f"{PREFIX}<str:connection>/"

urlpatterns = [
    path(PREFIX, views.connection_list, name="connection_list"),
    path(f"{PREFIX}new/", views.choose_cloud, name="connection_new"),
    path(f"{PREFIX}new/<str:provider>/", views.choose_method, name="connection_new_method"),
    path(ONE, views.status, name="connection"),
    path(f"{ONE}setup/", views.cloud_setup, name="connection_setup"),
    path(f"{ONE}details/", views.details, name="connection_details"),
    path(f"{ONE}report/", views.report, name="connection_report"),
    path(f"{ONE}validate/", views.validate_again, name="connection_validate"),
    path(f"{ONE}disable/", views.disable, name="connection_disable"),
    path(f"{ONE}enable/", views.enable, name="connection_enable"),
    path(f"{ONE}discard/", views.discard, name="connection_discard"),
]
