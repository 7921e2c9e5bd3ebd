"""The Content-Security-Policy header every response carries.

A page of Spaceport shows credentials and connection secrets being typed in, so a script that
slipped into a page (an organization's description, a bucket name echoed back) must not run and
must not send anything anywhere. The policy allows only the portal's own files: no inline script
or style, no ``eval``, no plug-ins, no framing, forms posting only back to the portal.

The setting has the shape of Django 6's ``SECURE_CSP`` (directive to list of sources), so the
built-in ``django.middleware.csp`` can replace this middleware once Spaceport requires Django 6.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from django.conf import settings
from django.http import HttpRequest, HttpResponse

HEADER = "Content-Security-Policy"
# Django's technical 404 and 500 pages, which it shows instead of the portal's when DEBUG is on.
DEBUG_PAGE_STATUSES = (404, 500)


def build_policy(directives: Mapping[str, Sequence[str] | bool]) -> str:
    """``{"default-src": ["'self'"], "upgrade-insecure-requests": True}`` as a header value."""
    parts = []
    for directive, sources in directives.items():
        if sources is True:
            parts.append(directive)
        elif sources:
            parts.append(f"{directive} {' '.join(sources)}")
    return "; ".join(parts)


class ContentSecurityPolicyMiddleware:
    """Add ``SECURE_CSP`` to every response that does not bring its own policy.

    Every response, not only HTML: a JSON error or a file shown by mistake as a page is then just
    as inert, and the header costs nothing where a browser ignores it. The one exception is
    Django's own debug page for an error (``DEBUG`` on, development only): it is built from inline
    style and script, and a developer needs it readable.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.policy = build_policy(settings.SECURE_CSP)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if settings.DEBUG and response.status_code in DEBUG_PAGE_STATUSES:
            return response
        if self.policy and HEADER not in response:
            response[HEADER] = self.policy
        return response
