"""What the wizard shows a customer for a connection: the steps on their side and whom they trust.

Each provider package writes its own steps (``<cloud>/instructions.py``); these are the shapes
they share, and the trust in Spaceport's own issuer that AWS web identity and Google workload
identity federation both ask for.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from django.conf import settings

from connections.providers.identity import uses_shared_identity, workload_subject
from portal.auth import issuer

if TYPE_CHECKING:
    from connections.models import CloudConnection

PLACEHOLDER_BUCKET = "<your-bucket>"
PLACEHOLDER_ISSUER = "https://<spaceport-issuer-host>"
PLACEHOLDER_ACCOUNT = "<your-organization's-spaceport-service-account>"


@dataclass(frozen=True)
class Instruction:
    title: str
    body: str
    language: str = "json"


def as_json(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2)


@dataclass(frozen=True)
class IdentityFact:
    label: str
    value: str


@dataclass(frozen=True)
class SpaceportIdentity:
    """What the customer's cloud trusts for this connection, shown above the steps with copy buttons."""

    facts: tuple[IdentityFact, ...]
    note: str


Steps = Callable[["CloudConnection"], list[Instruction]]
Identity = Callable[["CloudConnection"], "SpaceportIdentity | None"]


def no_steps(connection: CloudConnection) -> list[Instruction]:
    return []


def no_identity(connection: CloudConnection) -> SpaceportIdentity | None:
    return None


@dataclass(frozen=True)
class IssuerTrust:
    """What a customer's cloud must trust for one connection: Spaceport's issuer, audience and subject."""

    issuer_url: str
    audience: str
    subject: str
    shared: bool = False

    @property
    def provider_host(self) -> str:
        """IAM names an OIDC provider by its URL without the scheme."""
        parts = urlsplit(self.issuer_url)
        return (parts.netloc + parts.path).rstrip("/") if parts.netloc else self.issuer_url


def issuer_trust(connection: CloudConnection, audience: str) -> IssuerTrust:
    """This connection's issuer, audience and subject; the shared ones when the operator chose an external source."""
    if uses_shared_identity():
        issuer_setting = settings.SPACEPORT_WEB_IDENTITY_ISSUER or settings.OIDC_ISSUER
        return IssuerTrust(
            issuer_setting or PLACEHOLDER_ISSUER,
            settings.SPACEPORT_WEB_IDENTITY_AUDIENCE or audience,
            settings.SPACEPORT_WEB_IDENTITY_SUBJECT or "<spaceport-subject>",
            shared=True,
        )
    try:
        url = issuer.issuer_url()
    except issuer.IssuerNotConfiguredError:
        url = PLACEHOLDER_ISSUER
    subject = workload_subject(connection) if connection.external_id else "<connection-subject>"
    return IssuerTrust(url, audience, subject)


def trusted_identity(trust: IssuerTrust) -> SpaceportIdentity:
    """The issuer, audience and subject a customer's cloud trusts, with what that trust admits."""
    facts = [IdentityFact("Issuer", trust.issuer_url)]
    if trust.audience:
        facts.append(IdentityFact("Audience", trust.audience))
    facts.append(IdentityFact("Subject", trust.subject))
    if trust.shared:
        note = (
            "This Spaceport uses an external identity provider whose subject is the same for every organization "
            "it serves; restrict your trust some other way, or ask the operator to use Spaceport's own issuer."
        )
    else:
        note = (
            "Unique to this connection and fixed: Spaceport signs a short-lived token with this subject each "
            "time it acts for this connection, and the trust below admits no other subject, so no other "
            "Spaceport customer can use it."
        )
    return SpaceportIdentity(tuple(facts), note)


def identity_placeholder(text: str) -> bool:
    """Whether a step still says what the operator has yet to configure (the issuer, or Google's accounts)."""
    return PLACEHOLDER_ISSUER in text or PLACEHOLDER_ACCOUNT in text
