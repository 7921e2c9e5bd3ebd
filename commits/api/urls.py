from __future__ import annotations

from django.urls import path

from commits.api.views import OrganizationWebhookView, SpaceCommitDetailView, SpaceCommitItemsView, SpaceCommitsView

SPACE = "organizations/<str:organization_name>/spaces/<str:space_name>/commits/"

urlpatterns = [
    path(SPACE, SpaceCommitsView.as_view(), name="space-commits"),
    path(f"{SPACE}<int:commit_id>/", SpaceCommitDetailView.as_view(), name="space-commit-detail"),
    path(f"{SPACE}<int:commit_id>/items/", SpaceCommitItemsView.as_view(), name="space-commit-items"),
    path(
        "organizations/<str:organization_name>/webhook/", OrganizationWebhookView.as_view(), name="organization-webhook"
    ),
]
