from __future__ import annotations

from django.urls import path

from commits import views

urlpatterns = [
    path("o/<str:organization>/s/<str:space>/commits/", views.commit_card, name="space_commits"),
    path("o/<str:organization>/s/<str:space>/commits/new/", views.commit_start, name="space_commit_start"),
    path("o/<str:name>/webhook/", views.webhook_update, name="organization_webhook"),
]
