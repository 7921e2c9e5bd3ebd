"""One Google service account per organization, for direct IAM bindings.

With one account for every customer, any organization could name another's bucket and Spaceport
would reach it. So Spaceport acts for each organization through a service account of its own:
it creates one in ``SPACEPORT_GCP_PROJECT`` with the IAM API, or takes the next free one from
``SPACEPORT_GCP_SERVICE_ACCOUNT_POOL`` where the operator pre-creates them. The customer grants
that account on their bucket; Spaceport impersonates it (``gcp_identity.impersonated``).
"""

from __future__ import annotations

import secrets
from typing import Any

import requests
from django.conf import settings
from django.db import IntegrityError, transaction
from google.auth import exceptions as auth_errors
from google.auth.transport.requests import AuthorizedSession

from connections.models import GoogleServiceAccount
from connections.providers.base import StorageError
from connections.providers.gcp.identity import CLOUD_PLATFORM, check_google_host, own_credentials
from portal.tenancy.models import Organization

ACCOUNT_ID_PREFIX = "sp-"
TIMEOUT = (10, 30)


def organization_service_account(organization: Organization) -> str:
    """The organization's account, provisioned on first use; the row lock makes concurrent first uses agree."""
    existing = _recorded(organization)
    if existing:
        return existing
    with transaction.atomic():
        Organization.objects.select_for_update().filter(pk=organization.pk).first()
        existing = _recorded(organization)
        if existing:
            return existing
        if settings.SPACEPORT_GCP_SERVICE_ACCOUNT_POOL:
            return _take_from_pool(organization)
        if settings.SPACEPORT_GCP_PROJECT:
            email = _create(organization)
            GoogleServiceAccount.objects.create(organization=organization, email=email)
            return email
    raise StorageError(
        "not_configured",
        "This Spaceport has no Google service accounts for direct IAM bindings.",
        "An administrator must set SPACEPORT_GCP_PROJECT (Spaceport then creates one service account per "
        "organization there) or SPACEPORT_GCP_SERVICE_ACCOUNT_POOL; until then, use workload identity federation.",
    )


def recorded_service_account(organization: Organization) -> str:
    """The account already given to the organization, without creating one (pages that only show it)."""
    return _recorded(organization)


def account_id(organization: Organization) -> str:
    """6 to 30 characters, starting with a letter; the random tail keeps a re-created name from an old grant."""
    return f"{ACCOUNT_ID_PREFIX}{organization.name[:19]}-{secrets.token_hex(3)}"


def _recorded(organization: Organization) -> str:
    return str(
        GoogleServiceAccount.objects.filter(organization=organization).values_list("email", flat=True).first() or ""
    )


def _take_from_pool(organization: Organization) -> str:
    taken = set(GoogleServiceAccount.objects.values_list("email", flat=True))
    for email in settings.SPACEPORT_GCP_SERVICE_ACCOUNT_POOL:
        if email in taken:
            continue
        try:
            with transaction.atomic():
                GoogleServiceAccount.objects.create(organization=organization, email=email, from_pool=True)
        except IntegrityError:
            continue
        return str(email)
    raise StorageError(
        "not_configured",
        "Every service account in Spaceport's pool is already given to an organization.",
        "An administrator must add service accounts to SPACEPORT_GCP_SERVICE_ACCOUNT_POOL.",
    )


def _create(organization: Organization) -> str:
    """``projects.serviceAccounts.create`` with Spaceport's own identity (roles/iam.serviceAccountAdmin)."""
    project = settings.SPACEPORT_GCP_PROJECT
    url = f"{settings.SPACEPORT_GCP_IAM_URL}/v1/projects/{project}/serviceAccounts"
    check_google_host(url, "SPACEPORT_GCP_IAM_URL")
    body: dict[str, Any] = {
        "accountId": account_id(organization),
        "serviceAccount": {
            "displayName": f"Spaceport: {organization.name}"[:100],
            "description": f"Spaceport acts as this account for the organization {organization.name} only.",
        },
    }
    session = AuthorizedSession(own_credentials(CLOUD_PLATFORM))
    try:
        response = session.post(url, json=body, timeout=TIMEOUT)
    except auth_errors.RefreshError as exc:
        raise StorageError(
            "spaceport_credentials",
            "Google refused Spaceport's own credentials, so it cannot create your organization's service account.",
            "The Spaceport operator must check SPACEPORT_GCP_CREDENTIALS_FILE.",
        ) from exc
    except (auth_errors.TransportError, requests.RequestException) as exc:
        raise StorageError(
            "unreachable",
            "Spaceport could not reach Google's IAM API to create your organization's service account.",
            "This may be a passing network failure; try again in a moment.",
            transient=True,
        ) from exc
    if response.status_code != 200:
        raise StorageError(
            "spaceport_credentials",
            "Google's IAM API refused to create a service account for this organization "
            f"(HTTP {response.status_code}).",
            f"The Spaceport operator must let Spaceport's own identity create service accounts in {project} "
            "(roles/iam.serviceAccountAdmin), or configure SPACEPORT_GCP_SERVICE_ACCOUNT_POOL.",
            transient=response.status_code >= 500,
        )
    return str(response.json()["email"])
