"""The tokens page: people create, review and revoke their own personal API tokens.

Creating and deleting tokens is audited by the model signals, exactly as through the API; a
token's key appears only in the answer to the request that created it.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_POST

from portal.auth.forms import ApiTokenForm
from portal.auth.models import ApiToken
from portal.auth.tokens import issue_personal_token
from portal.core.errors import DomainError


def _render(request: HttpRequest, form: ApiTokenForm, *, issued: ApiToken | None = None, key: str = "") -> HttpResponse:
    owner: Any = request.user
    page = {
        "form": form,
        "tokens": ApiToken.objects.filter(user=owner).order_by("-created"),
        "issued": issued,
        "key": key,
    }
    status = 400 if form.is_bound and form.errors else 200
    response = render(request, "pages/tokens.html", page, status=status)
    add_never_cache_headers(response)
    return response


@login_required
def token_list(request: HttpRequest) -> HttpResponse:
    """List the caller's tokens and, on POST, create one and show its key this once."""
    if request.method != "POST":
        return _render(request, ApiTokenForm())
    form = ApiTokenForm(request.POST)
    if form.is_valid():
        try:
            token, key = issue_personal_token(request.user, form.cleaned_data["name"], form.expires())
        except DomainError as exc:
            form.add_domain_error(exc)
        else:
            return _render(request, ApiTokenForm(), issued=token, key=key)
    return _render(request, form)


@require_POST
@login_required
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    """Delete one of the caller's own tokens; anyone else's is not found, as if it did not exist."""
    token = get_object_or_404(ApiToken, pk=token_id, user_id=request.user.pk)
    name = token.name
    token.delete()
    messages.success(request, f"Token {name} revoked; programs using it are refused from now on.")
    return redirect("api_tokens")
