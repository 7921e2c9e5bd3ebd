"""The space page's "Get access" card: what the person may do there, and a credential in one click.

The card is part of the space page that ``portal.tenancy.views`` renders. Its form posts here; the answer
is the card alone for htmx and the whole space page without JavaScript. The card's state reaches the
page's template on the request (``credential_card`` tag), so the page view knows nothing of credentials.
Every decision is ``issue()``'s: this module only turns its answers and refusals into something to read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_variables
from django.views.decorators.http import require_POST

from accessgrants.forms import UPLOAD, CredentialRequestForm
from accessgrants.profiles import aws_profile
from accessgrants.vending.issuing import Issued, NotVendable, RateLimited, connection_of, issue
from connections.storage import (
    Access,
    Credential,
    Target,
    active_connection,
    descriptor_of,
    known_provider,
    with_active_connection,
)
from portal.core.errors import AccessDenied, DomainError
from portal.tenancy.access import access_for
from portal.tenancy.models import Space, State
from portal.tenancy.pages import space_page
from portal.tenancy.rules import AccessContext

CARD_TEMPLATE = "pages/space/_credentials.html"
_ATTRIBUTE = "_spaceport_credential_card"

# Parts of the secret that open nothing on their own; they are shown with the location, not as secrets.
PLAIN_SECRET_PARTS = ("method",)

LOCATION_LABELS = {
    "bucket": "Bucket",
    "container": "Container",
    "prefix": "Prefix",
    "region": "Region",
    "endpoint_url": "Endpoint",
    "account_url": "Account URL",
    "api_endpoint": "API endpoint",
}

CONNECTION_ADVICE = {
    "no_connection": "Ask an organization admin to connect storage to {organization}.",
    "connection_disabled": "Ask an organization admin to enable the storage connection of {organization} again.",
    "connection_invalid": "Ask an organization admin to fix the storage connection of {organization} and validate it.",
    "connection_draft": "Ask an organization admin to finish setting up the storage connection of {organization}.",
}


@dataclass(frozen=True)
class Offer:
    """One button: an access level the person holds here, or the upload to the loadingzone."""

    value: str
    label: str
    summary: str


@dataclass(frozen=True)
class Refusal:
    """Why no credential was given, and what the person can do about it."""

    code: str
    message: str
    advice: str
    link: tuple[str, str] | None = None
    retry_after: int | None = None


@dataclass(frozen=True)
class Secret:
    label: str
    value: str


@dataclass(frozen=True)
class Snippet:
    name: str
    label: str
    body: str


@dataclass(frozen=True)
class Shown:
    """An issued credential as the card shows it, once."""

    credential: Credential
    target: str
    cached: bool
    facts: list[tuple[str, str]]
    secrets: list[Secret]
    snippets: list[Snippet]

    @property
    def kind_label(self) -> str:
        descriptor = known_provider(self.credential.provider)
        labels = descriptor.kind_labels if descriptor is not None else {}
        return labels.get(self.credential.kind, self.credential.kind)

    @property
    def provider_label(self) -> str:
        descriptor = known_provider(self.credential.provider)
        return descriptor.label if descriptor is not None else ""

    @property
    def for_loadingzone(self) -> bool:
        return self.target == Target.LOADINGZONE

    @property
    def revocable(self) -> bool:
        """Whether disabling the connection or deleting the space withdraws it: only a SAS under a stored
        access policy can be recalled; everything else is honoured by the cloud until it expires."""
        return "si=" in str(self.credential.secret.get("sas", ""))


@dataclass
class CredentialCard:
    space: Space
    offers: list[Offer]
    form: CredentialRequestForm
    presigned: bool
    administers: bool
    unavailable: Refusal | None = None
    refusal: Refusal | None = None
    shown: Shown | None = field(default=None, repr=False)

    @property
    def problem(self) -> Refusal | None:
        """The refusal to show: the answer to this request first, else what stops any request."""
        return self.refusal or self.unavailable

    @property
    def asks_for_keys(self) -> bool:
        """Presigned stores sign one URL per object, so writing and deleting need the objects named."""
        return self.presigned and any(offer.value != Access.READ for offer in self.offers)

    @property
    def paused(self) -> bool:
        return self.space.state in (State.CLOSED, State.LOCKED)


def offers_for(context: AccessContext, space: Space) -> list[Offer]:
    offers: list[Offer] = []
    if context.may_read(space):
        offers.append(Offer(Access.READ, "Read", "List and download objects"))
    if context.may_write(space):
        offers.append(Offer(Access.WRITE, "Read & write", "Also upload and overwrite"))
    if context.may_delete(space):
        offers.append(Offer(Access.DELETE, "Read, write & delete", "Also remove objects"))
    if context.may_write(space) and not space.is_loadingzone:
        offers.append(Offer(UPLOAD, "Upload to the loadingzone", "Stage files, then commit them here"))
    return offers


def _administer_link(refusal_code: str, organization_name: str) -> tuple[str, str]:
    if refusal_code == "no_connection":
        return ("Connect storage", reverse("connection_new", args=[organization_name]))
    return ("Open storage connections", reverse("connection_list", args=[organization_name]))


def refusal_of(error: DomainError, space: Space, *, administers: bool) -> Refusal:
    """The domain's refusal with the next step spelled out for the person who met it."""
    organization = space.organization.name
    link = None
    if isinstance(error, RateLimited):
        seconds = "1 second" if error.retry_after == 1 else f"{error.retry_after} seconds"
        advice = (
            f"Spaceport limits how many credentials one person gets per minute; the buttons work again in {seconds}."
        )
        return Refusal(error.code, error.message, advice, retry_after=error.retry_after)
    if isinstance(error, AccessDenied):
        advice = "Your roles here do not allow this. Ask an organization admin for a role that does."
    elif error.code in CONNECTION_ADVICE:
        advice = CONNECTION_ADVICE[error.code].format(organization=organization)
        if administers:
            advice = f"You administer {organization}: you can fix this yourself."
            link = _administer_link(error.code, organization)
    elif isinstance(error, NotVendable):
        advice = (
            "Try again in a moment. If it keeps failing, ask an organization admin to validate the storage connection."
        )
    else:
        advice = "Change the request and try again."
    return Refusal(error.code, error.message, advice, link=link)


def _secret_label(credential: Credential, name: str) -> str:
    """The provider's name for a part of its credential's secret, or one made from the part's key."""
    descriptor = known_provider(credential.provider)
    labels = descriptor.secret_labels if descriptor is not None else {}
    return labels.get(name, name.replace("_", " ").capitalize())


def _snippet_label(credential: Credential, name: str) -> str:
    descriptor = known_provider(credential.provider)
    labels = descriptor.snippet_labels if descriptor is not None else {}
    return labels.get(name, name.replace("_", " "))


def _flattened(credential: Credential) -> list[Secret]:
    """Each value on its own line, nested ones (presigned URLs per object) labelled with their key."""
    shown: list[Secret] = []
    for name, value in credential.secret.items():
        if name in PLAIN_SECRET_PARTS:
            continue
        label = _secret_label(credential, name)
        if isinstance(value, dict):
            shown.extend(Secret(f"{label} for {key}", str(item)) for key, item in value.items())
        elif value not in (None, ""):
            shown.append(Secret(label, str(value)))
    return shown


def _facts(credential: Credential) -> list[tuple[str, str]]:
    """Where the credential opens, and how: safe to show and to copy around."""
    facts = [
        (LOCATION_LABELS.get(name, name.replace("_", " ").capitalize()), value)
        for name, value in credential.location.items()
        if value
    ]
    facts.extend(
        (_secret_label(credential, name), str(credential.secret[name]))
        for name in PLAIN_SECRET_PARTS
        if name in credential.secret
    )
    return facts


def shown_of(issued: Issued, target: str) -> Shown:
    credential = issued.credential
    return Shown(
        credential=credential,
        target=target,
        cached=issued.cached,
        facts=_facts(credential),
        secrets=_flattened(credential),
        snippets=[Snippet(name, _snippet_label(credential, name), body) for name, body in credential.snippets.items()],
    )


def new_card(context: AccessContext, space: Space, data: QueryDict | None = None) -> CredentialCard:
    organization = space.organization
    connection = active_connection(organization)
    offers = offers_for(context, space)
    levels = [offer.value for offer in offers if offer.value in Access.values]
    card = CredentialCard(
        space=space,
        offers=offers,
        form=CredentialRequestForm(data, levels=levels),
        presigned=connection is not None and descriptor_of(connection.provider).presigned,
        administers=context.may_administer(organization),
    )
    if card.offers:
        try:
            connection_of(space)
        except NotVendable as exc:
            card.unavailable = refusal_of(exc, space, administers=card.administers)
    return card


def card_context(request: HttpRequest, space: Space) -> dict[str, Any]:
    """What the card's template needs: the card from this request's POST, or a fresh one."""
    card = getattr(request, _ATTRIBUTE, None)
    if card is None or card.space.pk != space.pk:
        card = new_card(access_for(request), space)
    levels = [offer.value for offer in card.offers if offer.value in Access.values]
    profile = None if card.unavailable else aws_profile(request, space, levels)
    return {
        "card": card,
        "space": space,
        "organization": space.organization,
        "request": request,
        "aws_profile": profile,
    }


@sensitive_variables("issued")
def _request_credential(request: HttpRequest, context: AccessContext, card: CredentialCard) -> int:
    """Ask ``issue()`` and put its answer on the card; the HTTP status says how it went."""
    form = card.form
    if not form.is_valid():
        return 400
    minutes = form.cleaned_data["lifetime_minutes"]
    try:
        issued = issue(
            context,
            card.space,
            access=form.level,
            user=request.user,
            target=form.target,
            lifetime=timedelta(minutes=minutes) if minutes else None,
            object_keys=form.cleaned_data["object_keys"] if card.presigned else (),
        )
    except DomainError as exc:
        if exc.field in form.fields:
            form.add_domain_error(exc)
        else:
            card.refusal = refusal_of(exc, card.space, administers=card.administers)
        return exc.status
    card.shown = shown_of(issued, form.target)
    return 200


def _spaces() -> QuerySet[Space]:
    return with_active_connection(Space.objects.all())


@require_POST
@login_required
@never_cache
@sensitive_variables("card")
@space_page(audit="credential.create", spaces=_spaces)
def space_credentials(request: HttpRequest, space: Space, *, page: Callable[..., HttpResponse]) -> HttpResponse:
    """Issue a credential for the space; the answer holds the secret, so nothing may store it.

    Without htmx the answer is the whole space ``page`` (a view the project's URLs pass in, since
    the space page is tenancy's), with the card on it showing the credential.
    """
    context = access_for(request)
    found = space
    card = new_card(context, found, request.POST)
    status = _request_credential(request, context, card)
    setattr(request, _ATTRIBUTE, card)
    if request.headers.get("HX-Request") == "true":
        response = render(request, CARD_TEMPLATE, card_context(request, found), status=status)
    else:
        response = page(request, organization=found.organization.name, space=found.name)
        response.status_code = status
    if card.refusal is not None and card.refusal.retry_after is not None:
        response["Retry-After"] = str(card.refusal.retry_after)
    return response
