"""The native commits API: start a commit (202 with its status URL), follow it, list its objects."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from commits import webhooks
from commits.api.serializers import CommitItemSerializer, CommitSerializer, NewCommitSerializer, WebhookSerializer
from commits.models import Commit, CommitItem, ItemState, OrganizationWebhook
from commits.starting import start_commit
from connections.storage import with_active_connection
from portal.tenancy.models import Space
from portal.tenancy.scoped import OrganizationScopedView, SpaceScopedView
from portal.web.api.pagination import Pagination

SPACE_PATH = [
    OpenApiParameter("organization_name", str, OpenApiParameter.PATH),
    OpenApiParameter("space_name", str, OpenApiParameter.PATH),
]


class CommitsView(SpaceScopedView):
    """Commits are seen by whoever may read or write their space; other spaces answer 404.

    A write aimed at a space the caller sees goes on to ``start_commit``, which refuses it (403) and audits it.
    """

    audit_name = "commit"

    def spaces(self) -> QuerySet[Space]:
        return with_active_connection(Space.objects.all())

    def commits(self, space: Space) -> QuerySet[Commit]:
        return Commit.objects.filter(space=space).select_related("organization", "space")

    def paginated(self, request: Request, rows: Any, serializer: Any) -> Response:
        pages = Pagination()
        page: list[Any] | None = pages.paginate_queryset(rows, request, view=self)
        return pages.get_paginated_response(serializer(page, many=True, context={"request": request}).data)


class SpaceCommitsView(CommitsView):
    @extend_schema(
        summary="List a space's commits", responses={200: CommitSerializer(many=True)}, parameters=SPACE_PATH
    )
    def get(self, request: Request, organization_name: str, space_name: str) -> Response:
        return self.paginated(request, self.commits(self.space), CommitSerializer)

    @extend_schema(
        summary="Commit a loadingzone directory into the space",
        description="Moves every object under `root_dir/` in the organization's loadingzone to the same key in "
        "the space, server-side. Answers 202 at once; follow `status_url`. Needs write on the space.",
        request=NewCommitSerializer,
        responses={202: CommitSerializer},
        parameters=SPACE_PATH,
    )
    def post(self, request: Request, organization_name: str, space_name: str) -> Response:
        wanted = NewCommitSerializer(data=request.data)
        wanted.is_valid(raise_exception=True)
        commit = start_commit(
            self.access,
            self.space,
            root_dir=wanted.validated_data["root_dir"],
            user=request.user,
            overwrite=wanted.validated_data["overwrite"],
            origin=Commit.Origin.API,
        )
        body = CommitSerializer(commit, context={"request": request}).data
        return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": body["status_url"]})


class SpaceCommitDetailView(CommitsView):
    @extend_schema(summary="Show a commit with its counts", responses={200: CommitSerializer}, parameters=SPACE_PATH)
    def get(self, request: Request, organization_name: str, space_name: str, commit_id: int) -> Response:
        commit = self.commits(self.space).filter(pk=commit_id).first()
        if commit is None:
            raise Http404("No such commit.")
        return Response(CommitSerializer(commit, context={"request": request}).data)


class SpaceCommitItemsView(CommitsView):
    @extend_schema(
        summary="List a commit's objects",
        responses={200: CommitItemSerializer(many=True)},
        parameters=[*SPACE_PATH, OpenApiParameter("state", str, enum=ItemState.values)],
    )
    def get(self, request: Request, organization_name: str, space_name: str, commit_id: int) -> Response:
        commit = self.commits(self.space).filter(pk=commit_id).first()
        if commit is None:
            raise Http404("No such commit.")
        items = CommitItem.objects.filter(commit=commit).order_by("id")
        state = request.query_params.get("state")
        if state:
            if state not in ItemState.values:
                return Response(
                    {
                        "error": "invalid_choice",
                        "message": f"state: choose one of {', '.join(ItemState.values)}.",
                        "fields": {"state": [f"Choose one of {', '.join(ItemState.values)}."]},
                    },
                    status=status.HTTP_400_BAD_REQUEST,
                )
            items = items.filter(state=state)
        return self.paginated(request, items, CommitItemSerializer)


class OrganizationWebhookView(OrganizationScopedView):
    """The organization's commit webhook: its admins set the URL and secret; the secret never comes back.

    Others who see the organization do not see its webhook (404) and may not change it (403).
    """

    audit_name = "webhook"
    administrators_only = True
    administrators_refusal = "Only the organization's admins may do this."

    @extend_schema(summary="Show the organization's commit webhook", responses={200: WebhookSerializer})
    def get(self, request: Request, organization_name: str) -> Response:
        hook = OrganizationWebhook.objects.filter(organization=self.organization).first()
        if hook is None:
            raise Http404("No webhook is configured.")
        return Response(WebhookSerializer(hook).data)

    @extend_schema(
        summary="Set the organization's commit webhook", request=WebhookSerializer, responses={200: WebhookSerializer}
    )
    def put(self, request: Request, organization_name: str) -> Response:
        wanted = WebhookSerializer(data=request.data)
        wanted.is_valid(raise_exception=True)
        data = wanted.validated_data
        hook, generated = webhooks.configure(
            self.organization, url=data["url"], secret=data.get("secret") or None, enabled=data.get("enabled", True)
        )
        return Response(WebhookSerializer(hook, context={"generated_secret": generated}).data)

    @extend_schema(summary="Remove the organization's commit webhook", responses={204: None})
    def delete(self, request: Request, organization_name: str) -> Response:
        hook = OrganizationWebhook.objects.filter(organization=self.organization).first()
        if hook is None:
            raise Http404("No webhook is configured.")
        hook.delete()
        return Response(status=status.HTTP_204_NO_CONTENT)
