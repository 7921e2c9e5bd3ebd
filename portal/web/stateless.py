"""A shorter middleware stack for header-authenticated calls to views marked :func:`stateless`.

A client that sends ``Authorization`` to such a view (the AccessManager endpoints) uses no
session, no CSRF token, no flash messages and no allauth state, yet the full stack costs more
than the credential request itself. :class:`StatelessMiddleware` sits right after the request
context and serves these calls through Django's common and clickjacking middleware only; every
other request, and a call without ``Authorization`` (a browser session), takes the full stack.

Views marked :func:`sessionless` (the health probes) take the same short stack whoever calls:
a probe carries no credentials, and answering it must not depend on the session store. Because
the path is the same, ``/healthz`` is the benchmark's yardstick for the vending endpoint: what
separates the two is the vend itself, not the middleware in front of it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.http import HttpRequest, HttpResponse
from django.middleware.clickjacking import XFrameOptionsMiddleware
from django.middleware.common import CommonMiddleware
from django.urls import Resolver404, URLPattern, get_resolver, resolve
from django.urls.resolvers import RoutePattern

View = TypeVar("View", bound=Callable[..., Any])

STATELESS_ATTRIBUTE = "stateless"
SESSIONLESS_ATTRIBUTE = "sessionless"


def stateless(view: View) -> View:
    """Mark a view that never reads the session or messages when the caller sends ``Authorization``."""
    setattr(view, STATELESS_ATTRIBUTE, True)
    return view


def sessionless(view: View) -> View:
    """Mark a view that never reads the session or messages, whatever the caller sends.

    Such a view must be routed at the top of the URLconf with a plain path (no parameters).
    """
    setattr(view, SESSIONLESS_ATTRIBUTE, True)
    return view


def sessionless_paths() -> frozenset[str]:
    """The paths of :func:`sessionless` views routed at the top level without parameters.

    They are known by path, so a browser's request is not resolved one extra time to find out
    it is not one of them (resolving a page's path costs as much as a probe's whole answer).
    """
    paths = set()
    for pattern in get_resolver().url_patterns:
        if (
            isinstance(pattern, URLPattern)
            and isinstance(pattern.pattern, RoutePattern)
            and not pattern.pattern.converters
            and getattr(pattern.callback, SESSIONLESS_ATTRIBUTE, False)
        ):
            paths.add("/" + str(pattern.pattern))
    return frozenset(paths)


class StatelessMiddleware:
    """Serve header-authenticated calls to :func:`stateless` views without the session-bound middleware."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.short_stack = CommonMiddleware(XFrameOptionsMiddleware(self._view))
        self.sessionless_paths: frozenset[str] | None = None

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self.sessionless_paths is None:
            self.sessionless_paths = sessionless_paths()
        sessionless = request.path_info in self.sessionless_paths
        if sessionless or "HTTP_AUTHORIZATION" in request.META:
            try:
                match = resolve(request.path_info)
            except Resolver404:
                match = None
            if match is not None and (sessionless or getattr(match.func, STATELESS_ATTRIBUTE, False)):
                request.resolver_match = match
                response: HttpResponse = self.short_stack(request)  # type: ignore[assignment]
                return response
        return self.get_response(request)

    @staticmethod
    def _view(request: HttpRequest) -> HttpResponse:
        match = request.resolver_match
        assert match is not None
        response: HttpResponse = match.func(request, *match.args, **match.kwargs)
        return response
