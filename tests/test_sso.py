"""Single sign-on through a real OpenID Connect provider (``tests/idp``), and the role sync it drives."""

from __future__ import annotations

import copy
import uuid
from typing import Any

import pytest
import requests
from allauth.socialaccount.models import SocialAccount
from django.contrib.auth import get_user_model

from portal.audit.models import AuditEvent
from portal.auth.sso import role_names_from_login, synchronize_sso_grants
from portal.tenancy.changes import create_organization, create_space
from portal.tenancy.grants import Grant, Role, Scope, Source
from portal.tenancy.models import Organization, Space
from tests.idp.fixtures import IdentityProvider, identity_provider_fixture  # noqa: F401

FIRST_ROLES = [
    "org_acme_access",
    "acme_raw_supplier",
    "spc_raw_trustee",
    "SDK_ADMIN",
    "org_nowhere_access",
    "not-a-role-name",
]


@pytest.fixture
def sso(settings: Any, identity_provider: IdentityProvider) -> IdentityProvider:
    """Spaceport configured for the test provider, as the OIDC_* environment would configure it."""
    settings.SOCIALACCOUNT_PROVIDERS = identity_provider.provider_settings(settings.OIDC_PROVIDER_ID)
    settings.OIDC_ISSUER = identity_provider.issuer
    settings.OIDC_CLIENT_ID = identity_provider.client_id
    settings.OIDC_AUDIENCE = identity_provider.client_id
    caches = copy.deepcopy(settings.CACHES)
    caches["default"]["KEY_PREFIX"] = f"test-sso-{uuid.uuid4().hex}"
    settings.CACHES = caches
    return identity_provider


def sign_in_through_sso(base_url: str, idp: IdentityProvider) -> requests.Session:
    """Walk the browser's path: Spaceport's SSO button, the provider's login and consent, the callback."""
    session = requests.Session()
    start_url = f"{base_url}/accounts/oidc/sso/login/"
    start = session.get(start_url, timeout=10)
    assert start.status_code == 200
    at_provider = session.post(
        start_url,
        data={"csrfmiddlewaretoken": session.cookies["csrftoken"]},
        headers={"Referer": start_url},
        timeout=10,
    )
    assert at_provider.url.startswith(f"{idp.url}/login/"), at_provider.url
    approved = idp.sign_in(session, at_provider)
    assert approved.status_code == 302
    callback = approved.headers["Location"]
    assert callback.startswith(f"{base_url}/accounts/oidc/sso/login/callback/?"), callback
    landed = session.get(callback, allow_redirects=False, timeout=10)
    assert landed.status_code == 302, landed.text[:2000]
    assert landed.headers["Location"] == "/"
    return session


def grant_keys(user: Any, source: str) -> set[tuple[str, str, str | None, str | None]]:
    return {
        (g.scope, g.role, g.organization.name if g.organization else None, g.space.name if g.space else None)
        for g in Grant.objects.filter(user=user, source=source).select_related("organization", "space")
    }


def test_sso_sign_in_creates_the_user_and_syncs_claimed_roles_onto_grants(
    live_server: Any, sso: IdentityProvider, space: Space
) -> None:
    sso.set_roles(sso.username, FIRST_ROLES)
    session = sign_in_through_sso(live_server.url, sso)

    me = session.get(f"{live_server.url}/api/v1/me/", timeout=10)
    assert me.status_code == 200
    assert me.json()["email"] == sso.email
    assert me.json()["platform_admin"] is True

    account = SocialAccount.objects.get(provider="sso")
    user = account.user
    assert user.email == sso.email
    assert grant_keys(user, Source.SSO) == {
        ("organization", "access", "acme", None),
        ("space", "supplier", "acme", "raw"),
        ("space", "trustee", "acme", "raw"),
        ("platform", "sdk_admin", None, None),
    }
    login_event = AuditEvent.objects.get(action="sso.login")
    assert login_event.actor == user
    assert set(login_event.details["roles"]) == set(FIRST_ROLES)
    assert AuditEvent.objects.filter(action="grant.create", target_type="accessgrants.grant").count() >= 4

    Grant.objects.create(user=user, scope=Scope.SPACE, role=Role.USER, organization=space.organization, space=space)
    Grant.objects.create(user=user, scope=Scope.ORGANIZATION, role=Role.ADMIN, organization=space.organization)
    sso.set_roles(sso.username, ["org_acme_access", "org_acme_admin"])
    session = sign_in_through_sso(live_server.url, sso)

    assert get_user_model().objects.filter(socialaccount__provider="sso").count() == 1
    assert grant_keys(user, Source.SSO) == {("organization", "access", "acme", None)}
    assert grant_keys(user, Source.MANUAL) == {
        ("space", "user", "acme", "raw"),
        ("organization", "admin", "acme", None),
    }
    assert AuditEvent.objects.filter(action="sso.login").count() == 2
    assert AuditEvent.objects.filter(action="grant.delete").count() == 3
    assert session.get(f"{live_server.url}/api/v1/me/", timeout=10).json()["platform_admin"] is False


def test_without_sso_sign_in_the_session_is_anonymous(live_server: Any, sso: IdentityProvider) -> None:
    """The control for the test above: the API refuses a session that did not finish the flow."""
    session = requests.Session()
    session.get(f"{live_server.url}/accounts/oidc/sso/login/", timeout=10)
    assert session.get(f"{live_server.url}/api/v1/me/", timeout=10).status_code in (401, 403)


def test_roles_are_read_from_the_id_token_and_userinfo_and_realm_access() -> None:
    extra_data = {
        "id_token": {"roles": ["SDK_ADMIN"], "realm_access": {"roles": ["org_acme_access"]}},
        "userinfo": {"roles": ["acme_raw_user", "SDK_ADMIN"]},
    }
    assert role_names_from_login(extra_data) == ["SDK_ADMIN", "org_acme_access", "acme_raw_user"]
    assert role_names_from_login({"realm_access": {"roles": ["org_acme_admin"]}}) == ["org_acme_admin"]


def test_sync_leaves_manual_grants_alone_and_removes_only_unclaimed_sso_grants(space: Space, outsider: Any) -> None:
    organization = space.organization
    manual = Grant.objects.create(user=outsider, scope=Scope.ORGANIZATION, role=Role.ADMIN, organization=organization)

    first = synchronize_sso_grants(outsider, ["org_acme_admin", "org_acme_access", "acme_raw_user"])
    assert [g.role for g in first.added] == ["access", "user"]
    assert first.kept == 1
    assert Grant.objects.get(pk=manual.pk).source == Source.MANUAL

    second = synchronize_sso_grants(outsider, ["org_acme_access"])
    assert second.removed == ["user on space acme/raw"]
    assert grant_keys(outsider, Source.SSO) == {("organization", "access", "acme", None)}
    assert grant_keys(outsider, Source.MANUAL) == {("organization", "admin", "acme", None)}

    synchronize_sso_grants(outsider, [])
    assert grant_keys(outsider, Source.SSO) == set()
    assert Grant.objects.filter(pk=manual.pk).exists()


def test_an_ambiguous_legacy_space_role_grants_nothing(outsider: Any, owner: Any) -> None:
    for name in ("acme", "beta"):
        organization: Organization = create_organization(name=name, display_name=name.title(), owner=owner)
        create_space(organization, name="raw", description="")
    synchronize_sso_grants(outsider, ["org_acme_access", "org_beta_access", "spc_raw_supplier"])
    assert grant_keys(outsider, Source.SSO) == {
        ("organization", "access", "acme", None),
        ("organization", "access", "beta", None),
    }
