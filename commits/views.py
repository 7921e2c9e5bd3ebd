"""The commit card on the space page and the webhook card on the organization page.

The space page view knows nothing of commits: the card reaches it through the ``commit_card`` tag.
While a commit runs, the card polls its own URL (htmx) and swaps itself with fresh counts.
Starting a commit goes through ``start_commit``, which makes every decision.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from commits import webhooks
from commits.models import ACTIVE_STATES, Commit, CommitState, OrganizationWebhook
from commits.starting import start_commit
from connections.storage import active_connection_id, with_active_connection
from portal.core.errors import DomainError
from portal.tenancy.access import access_for
from portal.tenancy.models import Organization, Space
from portal.tenancy.pages import organization_page, space_page

CARD_TEMPLATE = "commits/_card.html"
WEBHOOK_TEMPLATE = "commits/_webhook.html"
RECENT = 5
WEBHOOK_REFUSAL = "Only the organization's admins may do this."


def _spaces() -> QuerySet[Space]:
    return with_active_connection(Space.objects.all())


def waiting_for(commit: Commit, now: datetime) -> str:
    """What a commit waits for, when it waits for a worker: none has taken it yet, or the one that
    had it stopped moving it forward (stopped, or cut off from the database or the broker)."""
    if commit.state == CommitState.QUEUED:
        return "Waiting for a worker to take it."
    stalled_since = commit.heartbeat or commit.started
    stall = timedelta(seconds=settings.SPACEPORT_COMMIT_STALL_SECONDS)
    if commit.state == CommitState.RUNNING and stalled_since is not None and now - stalled_since > stall:
        return "Waiting for a worker: none has moved it forward for a while; Spaceport hands it to another by itself."
    return ""


def card_context(request: HttpRequest, space: Space, **extra: Any) -> dict[str, Any]:
    context = access_for(request)
    may_commit = context.may_write(space) and not space.is_loadingzone
    administers = context.may_administer(space.organization)
    recent = list(Commit.objects.filter(space=space).select_related("organization", "space")[:RECENT])
    now = timezone.now()
    for commit in recent:
        commit.waiting = waiting_for(commit, now)  # type: ignore[attr-defined]
    return {
        "request": request,
        "space": space,
        "organization": space.organization,
        "commits": recent,
        "polling": any(commit.state in ACTIVE_STATES for commit in recent),
        "may_commit": may_commit,
        # Without storage a commit can only be refused: the card tells whoever would commit, or could
        # connect storage, what to do instead of offering the form.
        "needs_storage": (may_commit or administers) and active_connection_id(space.organization) is None,
        "administers": administers,
        "root_dir": extra.pop("root_dir", ""),
        **extra,
    }


@never_cache
@login_required
@space_page(data=True, spaces=_spaces)
def commit_card(request: HttpRequest, space: Space) -> HttpResponse:
    """The card alone, for htmx polling."""
    return render(request, CARD_TEMPLATE, card_context(request, space))


@require_POST
@login_required
@space_page(audit="commit.create", spaces=_spaces)
def commit_start(request: HttpRequest, space: Space) -> HttpResponse:
    target = space
    root_dir = request.POST.get("root_dir", "")
    try:
        start_commit(
            access_for(request),
            target,
            root_dir=root_dir,
            user=request.user,
            overwrite=request.POST.get("overwrite") == "on",
            origin=Commit.Origin.PAGE,
        )
    except DomainError as exc:
        if request.headers.get("HX-Request"):
            page = card_context(request, target, problem=exc.message, root_dir=root_dir)
            return render(request, CARD_TEMPLATE, page, status=200)
        messages.error(request, exc.message)
        return redirect("space", organization=target.organization.name, space=target.name)
    if request.headers.get("HX-Request"):
        return render(request, CARD_TEMPLATE, card_context(request, target))
    messages.success(request, f"Committing {root_dir.strip('/')}/ from the loadingzone into {target.name}.")
    return redirect("space", organization=target.organization.name, space=target.name)


def webhook_context(request: HttpRequest, organization: Organization, **extra: Any) -> dict[str, Any]:
    return {
        "request": request,
        "organization": organization,
        "hook": OrganizationWebhook.objects.filter(organization=organization).first(),
        **extra,
    }


@require_POST
@login_required
@organization_page(
    administrators_only=True, message="Only the organization's admins may do this.", audit="webhook.update"
)
def webhook_update(request: HttpRequest, organization: Organization) -> HttpResponse:
    """Set the organization's commit webhook; the page never shows the secret, so the admin enters it."""
    name = organization.name
    if request.POST.get("remove"):
        OrganizationWebhook.objects.filter(organization=organization).delete()
        messages.success(request, "Webhook removed.")
        return redirect("organization", name=name)
    try:
        webhooks.configure(
            organization,
            url=request.POST.get("url", "").strip(),
            secret=request.POST.get("secret", "").strip() or None,
            enabled=request.POST.get("enabled") == "on",
            generate=False,
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("organization", name=name)
    messages.success(request, "Webhook saved.")
    return redirect("organization", name=name)
