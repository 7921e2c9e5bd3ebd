"""The one rule for everything named under an organization or a space, and the API bases that apply it.

A view finds its organization (and space) by the names in its URL, among what the caller may see:
anything else answers 404, exactly as a name that does not exist, and a write aimed at something
that does exist goes on the audit trail. What the caller sees but may not change answers 403, and
that refusal goes on the trail too. As NetBox does with ``RestrictedQuerySet`` and its base
viewsets, the check lives in the base class, so an endpoint cannot forget it; the pages get the same
rule from :mod:`portal.tenancy.pages`. The querysets are :class:`AccessContext`'s ``visible_*`` and
the predicates its ``may_*``; ``tests/test_access_parity.py`` holds the two equal.

Every view of the project declares its ``access_scope``; ``tests/test_access_sweep.py`` fails on a
URL whose view has none and is not on its short list of unscoped views.
"""

from __future__ import annotations

from enum import StrEnum
from functools import cached_property
from typing import Any, ClassVar

from django.db import models
from django.db.models import QuerySet
from django.http import Http404
from rest_framework.permissions import SAFE_METHODS
from rest_framework.request import Request

from portal.tenancy.access import PortalApiView, PortalViewSet
from portal.tenancy.models import Organization, Space
from portal.tenancy.rules import AccessContext
from portal.web.api.base import refuse

ADMINISTRATORS_ONLY = "Only the organization's owners and admins may do this."


class AccessScope(StrEnum):
    """What a view's answers are about, and so which rule guards it."""

    ORGANIZATION = "organization"  # one organization named in the URL
    SPACE = "space"  # one space named in the URL
    VISIBLE = "visible"  # a list or an object taken from what the caller may see
    PLATFORM = "platform"  # platform admins only


def record_hidden_write(action: str, target: models.Model | None) -> None:
    """A write aimed at something the caller may not see answers 404; it is still recorded if it exists."""
    if target is not None:
        refuse(action, target, details={"reason": "not visible"})


def find_organization(access: AccessContext, name: str, *, hidden_write: str = "") -> Organization:
    """The organization of this name if the caller may see it; 404 otherwise (a write is recorded)."""
    organization = access.visible_organizations().filter(name=name).first()
    if organization is None:
        if hidden_write:
            record_hidden_write(hidden_write, Organization.objects.filter(name=name).first())
        raise Http404("No such organization.")
    return organization


def require_administration(
    access: AccessContext,
    organization: Organization,
    *,
    action: str,
    target: models.Model | None = None,
    message: str = ADMINISTRATORS_ONLY,
    details: dict[str, Any] | None = None,
) -> None:
    """403, recorded, unless the caller runs the organization (owners, admins, platform admins)."""
    if not access.may_administer(organization):
        raise refuse(action, target, organization=organization, message=message, details=details)


def find_space(
    access: AccessContext,
    organization_name: str,
    space_name: str,
    *,
    data: bool = False,
    hidden_write: str = "",
    spaces: QuerySet[Space] | None = None,
) -> Space:
    """The space if the caller may see it (with ``data``: may read or write its data); 404 otherwise.

    ``spaces`` lets a caller choose what is fetched along (``select_related``); it is cut down here.
    """
    queryset = Space.objects.select_related("organization") if spaces is None else spaces
    space = access.visible_spaces(queryset).filter(organization__name=organization_name, name=space_name).first()
    if space is None or (data and not (access.may_read(space) or access.may_write(space))):
        if hidden_write:
            hidden = Space.objects.filter(organization__name=organization_name, name=space_name).first()
            record_hidden_write(hidden_write, hidden)
        raise Http404("No such space.")
    return space


# --- API bases ---


class ScopedViewSet(PortalViewSet):
    """Model viewsets whose ``get_queryset`` is cut to what the caller may see (404 otherwise, and a
    write at a hidden object is recorded); writing to an object needs running its organization (403,
    recorded, on the object)."""

    access_scope: ClassVar[AccessScope] = AccessScope.VISIBLE
    write_refusal = "Only the organization's owners and admins may change it."

    def organization_of(self, obj: Any) -> Organization:
        return obj.organization

    def may_change(self, obj: Any) -> bool:
        return self.access.may_administer(self.organization_of(obj))

    def check_object_permissions(self, request: Request, obj: Any) -> None:
        super().check_object_permissions(request, obj)
        if self.is_write() and not self.may_change(obj):
            raise refuse(self.audit_action(), obj, message=self.write_refusal)


class OrganizationScopedViewSet(ScopedViewSet):
    """Viewsets under ``/organizations/<organization_name>/``: the organization is found before any
    handler runs; with ``administrators_only`` even reading needs running it (403, recorded)."""

    access_scope = AccessScope.ORGANIZATION
    organization_kwarg = "organization_name"
    administrators_only = False
    administrators_refusal = ADMINISTRATORS_ONLY

    @cached_property
    def organization(self) -> Organization:
        return find_organization(self.access, str(self.kwargs.get(self.organization_kwarg, "")))

    def hidden_object(self) -> models.Model | None:
        return Organization.objects.filter(name=self.kwargs.get(self.organization_kwarg)).first()

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if getattr(self, "swagger_fake_view", False):
            return
        try:
            organization = self.organization
        except Http404:
            self.record_hidden_write()
            raise
        if self.administrators_only:
            require_administration(
                self.access, organization, action=self.audit_action(), message=self.administrators_refusal
            )


class ScopedApiView(PortalApiView):
    """Plain API views: the request's method says whether a refusal is of a write."""

    access_scope: ClassVar[AccessScope]
    audit_name = ""

    def is_write(self) -> bool:
        return self.request.method not in SAFE_METHODS

    def write_action(self) -> str:
        """The trail's name for a refused write, like the model signals name the writes that happen."""
        verb = {"POST": "create", "DELETE": "delete"}.get(str(self.request.method), "update")
        return f"{self.audit_name}.{verb}"


class OrganizationScopedView(ScopedApiView):
    """``/organizations/<organization_name>/...``: the organization is found before the handler runs.

    With ``administrators_only``, others who see the organization get 404 on reads (the object is
    the organization's own business) and 403, recorded, on writes.
    """

    access_scope = AccessScope.ORGANIZATION
    organization_kwarg = "organization_name"
    administrators_only = False
    administrators_refusal = ADMINISTRATORS_ONLY
    organization: Organization

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if getattr(self, "swagger_fake_view", False):
            return
        write = self.is_write()
        self.organization = find_organization(
            self.access, str(kwargs.get(self.organization_kwarg, "")), hidden_write=self.write_action() if write else ""
        )
        if self.administrators_only and not self.access.may_administer(self.organization):
            if not write:
                raise Http404("No such organization.")
            require_administration(
                self.access,
                self.organization,
                action=self.write_action(),
                target=self.organization,
                message=self.administrators_refusal,
            )


class SpaceScopedView(ScopedApiView):
    """``/organizations/<organization_name>/spaces/<space_name>/...``: a space the caller may see,
    whose data they may read or write (404 otherwise). What a write may do there is the domain's to
    decide (commits, credentials), which refuses with 403 and records it."""

    access_scope = AccessScope.SPACE
    space: Space

    def spaces(self) -> QuerySet[Space]:
        """What is fetched along with the space; views that need more say so here."""
        return Space.objects.select_related("organization")

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if getattr(self, "swagger_fake_view", False):
            return
        self.space = find_space(
            self.access,
            str(kwargs.get("organization_name", "")),
            str(kwargs.get("space_name", "")),
            data=not self.is_write(),
            hidden_write=self.write_action() if self.is_write() else "",
            spaces=self.spaces(),
        )
