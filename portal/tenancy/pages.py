"""The pages' side of the one rule of :mod:`portal.tenancy.scoped`.

``organization_page`` and ``space_page`` find the object named in the URL among what the caller
may see (404 otherwise), refuse what they see but may not change (403), put refused writes on the
audit trail, and hand the object to the view in place of its name. Every page under an
organization or a space is built with one of them; the URL sweep fails on one that is not.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse

from portal.core.errors import AccessDenied
from portal.tenancy.access import access_for
from portal.tenancy.models import Space
from portal.tenancy.scoped import (
    ADMINISTRATORS_ONLY,
    AccessScope,
    find_organization,
    find_space,
    require_administration,
)

View = Callable[..., HttpResponse]
SAFE = ("GET", "HEAD", "OPTIONS")


def _action(view: View, audit: str) -> str:
    """The trail's name for a refused change: given, or the app and the view (``connections.disable``)."""
    return audit or f"{view.__module__.split('.')[0]}.{view.__name__.lstrip('_')}"


def scoped(scope: AccessScope) -> Callable[[View], View]:
    """Mark a page whose own code applies the rule for ``scope`` (lists cut to what the caller may see)."""

    def mark(view: View) -> View:
        view.access_scope = scope  # type: ignore[attr-defined]
        return view

    return mark


def organization_page(
    *, administrators_only: bool = False, message: str = ADMINISTRATORS_ONLY, audit: str = "", kwarg: str = "name"
) -> Callable[[View], View]:
    """The organization named by ``kwarg``, passed to the view as ``organization``.

    With ``administrators_only`` the page is for its owners and admins (and platform admins): others
    who see the organization get 403, recorded when they tried to change something.
    """

    def decorate(view: View) -> View:
        action = _action(view, audit)

        @wraps(view)
        def page(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            access = access_for(request)
            write = request.method not in SAFE
            organization = find_organization(access, kwargs.pop(kwarg), hidden_write=action if write else "")
            if administrators_only and not access.may_administer(organization):
                if not write:
                    raise PermissionDenied(message)
                try:
                    require_administration(access, organization, action=action, target=organization, message=message)
                except AccessDenied as refusal:
                    raise PermissionDenied(refusal.message) from refusal
            return view(request, *args, organization=organization, **kwargs)

        page.access_scope = AccessScope.ORGANIZATION  # type: ignore[attr-defined]
        return page

    return decorate


def space_page(
    *,
    data: bool = False,
    administrators_only: bool = False,
    message: str = ADMINISTRATORS_ONLY,
    audit: str = "",
    spaces: Callable[[], QuerySet[Space]] | None = None,
) -> Callable[[View], View]:
    """The space named by the ``organization`` and ``space`` parts of the URL, passed as ``space``.

    ``data``: only for those who may read or write its data (404 for the others, as if it did not
    exist); ``administrators_only``: changing it is for the organization's owners and admins (403).
    """

    def decorate(view: View) -> View:
        action = _action(view, audit)

        @wraps(view)
        def page(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            access = access_for(request)
            write = request.method not in SAFE
            space = find_space(
                access,
                kwargs.pop("organization"),
                kwargs.pop("space"),
                data=data,
                hidden_write=action if write else "",
                spaces=spaces() if spaces is not None else None,
            )
            if administrators_only and not access.may_administer(space.organization):
                if not write:
                    raise PermissionDenied(message)
                try:
                    require_administration(access, space.organization, action=action, target=space, message=message)
                except AccessDenied as refusal:
                    raise PermissionDenied(refusal.message) from refusal
            return view(request, *args, space=space, **kwargs)

        page.access_scope = AccessScope.SPACE  # type: ignore[attr-defined]
        return page

    return decorate
