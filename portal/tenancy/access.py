"""The access context of the current request, built once per request, and the API view bases that offer it."""

from __future__ import annotations

from typing import Any

from portal.core import snapshots
from portal.tenancy.rules import AccessContext, RoleFact
from portal.web.api.base import BaseApiView, BaseViewSet

_ATTRIBUTE = "_spaceport_access"


def access_for(request: Any) -> AccessContext:
    """The caller's roles: their stored grants plus any role claims their bearer token carried.

    Works for Django and DRF requests alike; a bearer token's facts ride on ``request.auth``
    as ``role_facts``. Kept with the snapshot version it was built at, so a request that starts
    over on a newer version (:func:`snapshots.optimistic`) builds it again.
    """
    version = snapshots.version()
    cached = getattr(request, _ATTRIBUTE, None)
    if cached is not None and cached[0] == version:
        context: AccessContext = cached[1]
        return context
    extra: list[RoleFact] = list(getattr(getattr(request, "auth", None), "role_facts", ()) or ())
    context = AccessContext.for_user(getattr(request, "user", None), extra_facts=extra)
    setattr(request, _ATTRIBUTE, (version, context))
    return context


class PortalApiView(BaseApiView):
    """A plain API view with bounded JSON bodies and the caller's access."""

    @property
    def access(self) -> AccessContext:
        return access_for(self.request)


class PortalViewSet(BaseViewSet):
    """The base of the API's model views, with the caller's access (see :class:`BaseViewSet`)."""

    @property
    def access(self) -> AccessContext:
        return access_for(self.request)
