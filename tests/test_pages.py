"""The server-rendered pages: who sees what, who may change what, and how bad input is answered."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from portal.tenancy.changes import create_organization
from portal.tenancy.grants import Grant, Role, Scope
from portal.tenancy.models import LOADINGZONE, Organization, Space, State
from tests.conftest import PASSWORD, make_user
from tests.pages_support import client_for, field_errors
from tests.valid_connections import valid_connection

# --- sign-in ---


def test_sign_in_page_has_the_spaceport_look_and_no_sso_button_without_sso(client: Client, db: None) -> None:
    response = client.get(reverse("account_login"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "spaceport.css" in html
    assert "Sign in to Spaceport" in html
    assert "Sign in with" not in html


def test_sign_in_page_offers_sso_when_configured(client: Client, db: None, settings: Any) -> None:
    settings.SOCIALACCOUNT_PROVIDERS = {"openid_connect": {"APPS": []}}
    settings.OIDC_PROVIDER_ID = "corp"
    settings.OIDC_PROVIDER_NAME = "Corp ID"
    html = client.get(reverse("account_login")).content.decode()
    assert "Sign in with Corp ID" in html
    assert re.search(r'<form method="post" action="/accounts/oidc/corp/login/"', html)


def test_wrong_password_is_shown_on_the_sign_in_form(client: Client, owner: Any) -> None:
    response = client.post(reverse("account_login"), {"login": owner.email, "password": "not-the-password"})
    assert response.status_code == 200
    assert "form-errors" in response.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize(
    "url_name",
    ["account_signup", "account_reset_password", "account_reset_password_done", "account_email_verification_sent"],
)
def test_other_entrance_pages_share_the_look(client: Client, db: None, url_name: str) -> None:
    response = client.get(reverse(url_name))
    assert response.status_code == 200
    assert 'class="auth-card"' in response.content.decode()


def test_account_pages_use_the_app_shell(client: Client, owner: Any) -> None:
    client.post(reverse("account_login"), {"login": owner.email, "password": PASSWORD})
    client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    for url_name in ("account_email", "mfa_index", "mfa_activate_totp", "account_reauthenticate", "account_logout"):
        response = client.get(reverse(url_name))
        assert response.status_code == 200, url_name
        assert "spaceport.css" in response.content.decode()
    assert 'class="img-qr"' in client.get(reverse("mfa_activate_totp")).content.decode()


# --- dashboard ---


def test_dashboard_needs_sign_in(client: Client, db: None) -> None:
    response = client.get(reverse("dashboard"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_dashboard_shows_what_a_member_can_see_with_roles_and_access(member: Any, space: Space) -> None:
    html = client_for(member).get(reverse("dashboard")).content.decode()
    assert "Acme Research" in html
    assert reverse("space", args=["acme", "raw"]) in html
    assert reverse("space", args=["acme", LOADINGZONE]) in html
    assert '<span class="role">supplier</span>' in html
    assert "access-write" in html
    assert "New organization" not in html


def test_dashboard_hides_organizations_the_user_cannot_see(outsider: Any, space: Space) -> None:
    html = client_for(outsider).get(reverse("dashboard")).content.decode()
    assert "Acme Research" not in html
    assert "You have no access yet" in html


def test_dashboard_offers_new_organization_to_platform_admins(platform_admin: Any, space: Space) -> None:
    html = client_for(platform_admin).get(reverse("dashboard")).content.decode()
    assert "Acme Research" in html
    assert reverse("organization_create") in html


# --- organization page ---


def test_organization_page_is_404_for_outsiders(outsider: Any, space: Space) -> None:
    assert client_for(outsider).get(reverse("organization", args=["acme"])).status_code == 404


def test_organization_page_is_read_only_for_members(member: Any, space: Space) -> None:
    response = client_for(member).get(reverse("organization", args=["acme"]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "raw" in html
    assert "member@example.com" in html
    assert reverse("grant_create", args=["acme"]) not in html
    assert reverse("space_create", args=["acme"]) not in html
    assert "Revoke" not in html


def test_organization_page_marks_the_loadingzone(owner: Any, space: Space) -> None:
    html = client_for(owner).get(reverse("organization", args=["acme"])).content.decode()
    assert 'class="row-loadingzone"' in html
    assert reverse("grant_create", args=["acme"]) in html
    assert reverse("space_create", args=["acme"]) in html
    assert reverse("organization_update", args=["acme"]) in html


@pytest.mark.parametrize(
    ("url_name", "data"),
    [
        ("organization_update", {"organization-confidentiality": "PUBLIC", "organization-state": "OPEN"}),
        ("space_create", {"space-name": "stolen", "space-confidentiality": "INTERNAL", "space-retention_days": "1"}),
        (
            "grant_create",
            {"grant-user_email": "member@example.com", "grant-scope": "organization", "grant-role": "admin"},
        ),
    ],
)
def test_members_cannot_change_an_organization(member: Any, space: Space, url_name: str, data: dict[str, str]) -> None:
    response = client_for(member).post(reverse(url_name, args=["acme"]), data)
    assert response.status_code == 403
    organization = Organization.objects.get(name="acme")
    assert organization.confidentiality != "PUBLIC"
    assert not Space.objects.filter(name="stolen").exists()
    assert not Grant.objects.filter(user__email="member@example.com", role=Role.ADMIN).exists()


def test_outsiders_get_404_when_posting(outsider: Any, space: Space) -> None:
    url = reverse("space_create", args=["acme"])
    response = client_for(outsider).post(url, {"space-name": "sneaky", "space-retention_days": "1"})
    assert response.status_code == 404
    assert not Space.objects.filter(name="sneaky").exists()


def test_owner_edits_the_organization(owner: Any, space: Space) -> None:
    client = client_for(owner)
    response = client.post(
        reverse("organization_update", args=["acme"]),
        {
            "organization-display_name": "Acme Labs",
            "organization-description": "Lab data",
            "organization-confidentiality": "PRIVATE",
            "organization-state": "OPEN",
            "organization-tags": "lab, eu",
        },
        follow=True,
    )
    assert response.status_code == 200
    assert "Organization settings saved." in response.content.decode()
    organization = Organization.objects.get(name="acme")
    assert (organization.display_name, organization.confidentiality, organization.tags) == (
        "Acme Labs",
        "PRIVATE",
        ["lab", "eu"],
    )


def test_bad_organization_settings_show_the_error_next_to_the_field_and_save_nothing(owner: Any, space: Space) -> None:
    response = client_for(owner).post(
        reverse("organization_update", args=["acme"]),
        {
            "organization-display_name": "x" * 300,
            "organization-confidentiality": "SECRET",
            "organization-state": "OPEN",
        },
    )
    assert response.status_code == 400
    assert field_errors(response, "id_organization-display_name")
    assert field_errors(response, "id_organization-confidentiality")
    organization = Organization.objects.get(name="acme")
    assert organization.display_name == "Acme Research"


def test_admin_creates_a_space(admin_user: Any, space: Space) -> None:
    response = client_for(admin_user).post(
        reverse("space_create", args=["acme"]),
        {
            "space-name": "curated",
            "space-display_name": "Curated data",
            "space-confidentiality": "PUBLIC",
            "space-retention_days": "30",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("space", args=["acme", "curated"])
    created = Space.objects.get(organization__name="acme", name="curated")
    assert (created.confidentiality, created.retention_days) == ("PUBLIC", 30)


@pytest.mark.parametrize(
    ("name", "message"),
    [("Bad_Name", "lowercase letters, digits and single hyphens"), ("raw", "already exists")],
)
def test_bad_space_names_show_the_error_next_to_the_field(owner: Any, space: Space, name: str, message: str) -> None:
    before = Space.objects.count()
    response = client_for(owner).post(
        reverse("space_create", args=["acme"]),
        {"space-name": name, "space-confidentiality": "INTERNAL", "space-retention_days": "10"},
    )
    assert response.status_code == 400
    errors = field_errors(response, "id_space-name")
    assert any(message in error for error in errors), errors
    assert Space.objects.count() == before


def test_grant_and_revoke_by_an_admin(admin_user: Any, space: Space) -> None:
    newcomer = make_user("newcomer@example.com")
    client = client_for(admin_user)
    response = client.post(
        reverse("grant_create", args=["acme"]),
        {
            "grant-user_email": "Newcomer@Example.com",
            "grant-scope": "space",
            "grant-space": space.pk,
            "grant-role": "user",
        },
        follow=True,
    )
    assert response.status_code == 200
    grant = Grant.objects.get(user=newcomer)
    assert (grant.scope, grant.role, grant.space_id, grant.granted_by) == ("space", "user", space.pk, admin_user)
    assert "newcomer@example.com" in response.content.decode()

    response = client.post(reverse("grant_revoke", args=["acme", grant.pk]), follow=True)
    assert response.status_code == 200
    assert "Revoked" in response.content.decode()
    assert not Grant.objects.filter(pk=grant.pk).exists()


def test_grant_to_a_group(owner: Any, space: Space) -> None:
    group = Group.objects.create(name="analysts")
    response = client_for(owner).post(
        reverse("grant_create", args=["acme"]),
        {"grant-group": group.pk, "grant-scope": "organization", "grant-role": "access"},
    )
    assert response.status_code == 302
    assert Grant.objects.filter(group=group, scope="organization", role="access", organization__name="acme").exists()


@pytest.mark.parametrize(
    ("data", "field_id", "message"),
    [
        ({"grant-user_email": "nobody@example.com", "grant-role": "access"}, "id_grant-user_email", "signed in"),
        ({"grant-role": "access"}, "id_grant-user_email", "Name one user"),
        ({"grant-user_email": "outsider@example.com", "grant-role": "supplier"}, "id_grant-role", "not a organization"),
        (
            {"grant-user_email": "outsider@example.com", "grant-role": "user", "grant-scope": "space"},
            "id_grant-space",
            "Name the space",
        ),
        ({"grant-user_email": "member@example.com", "grant-role": "access"}, "id_grant-role", "already granted"),
    ],
)
def test_bad_grants_show_the_error_next_to_the_field_and_grant_nothing(
    owner: Any, outsider: Any, space: Space, data: dict[str, str], field_id: str, message: str
) -> None:
    before = Grant.objects.count()
    response = client_for(owner).post(reverse("grant_create", args=["acme"]), {"grant-scope": "organization", **data})
    assert response.status_code == 400
    errors = field_errors(response, field_id)
    assert any(message in error for error in errors), errors
    assert Grant.objects.count() == before


def test_grants_cannot_name_a_space_of_another_organization(owner: Any, outsider: Any, space: Space) -> None:
    other = create_organization(name="other")
    foreign = other.spaces.get()
    response = client_for(owner).post(
        reverse("grant_create", args=["acme"]),
        {"grant-user_email": outsider.email, "grant-scope": "space", "grant-space": foreign.pk, "grant-role": "user"},
    )
    assert response.status_code == 400
    assert field_errors(response, "id_grant-space")
    assert not Grant.objects.filter(user=outsider).exists()


def test_members_cannot_revoke(member: Any, space: Space) -> None:
    grant = Grant.objects.get(user=member, role=Role.SUPPLIER)
    response = client_for(member).post(reverse("grant_revoke", args=["acme", grant.pk]))
    assert response.status_code == 403
    assert Grant.objects.filter(pk=grant.pk).exists()


def test_revoking_a_grant_of_another_organization_is_404(owner: Any, outsider: Any, space: Space) -> None:
    other = create_organization(name="other")
    foreign = Grant.objects.create(user=outsider, scope=Scope.ORGANIZATION, role=Role.ACCESS, organization=other)
    response = client_for(owner).post(reverse("grant_revoke", args=["acme", foreign.pk]))
    assert response.status_code == 404
    assert Grant.objects.filter(pk=foreign.pk).exists()


def test_revoke_needs_post(owner: Any, member: Any, space: Space) -> None:
    grant = Grant.objects.get(user=member, role=Role.SUPPLIER)
    assert client_for(owner).get(reverse("grant_revoke", args=["acme", grant.pk])).status_code == 405
    assert Grant.objects.filter(pk=grant.pk).exists()


# --- new organization ---


def test_new_organization_page_is_refused_without_the_right(owner: Any) -> None:
    client = client_for(owner)
    assert client.get(reverse("organization_create")).status_code == 403
    assert (
        client.post(reverse("organization_create"), {"name": "mine", "confidentiality": "INTERNAL"}).status_code == 403
    )
    assert not Organization.objects.filter(name="mine").exists()


def test_organization_creators_create_an_organization_and_own_it(db: None) -> None:
    creator = make_user("creator@example.com")
    Grant.objects.create(user=creator, scope=Scope.PLATFORM, role=Role.ORG_CREATOR)
    client = client_for(creator)
    assert client.get(reverse("organization_create")).status_code == 200
    response = client.post(
        reverse("organization_create"),
        {"name": "globex", "display_name": "Globex", "confidentiality": "PRIVATE"},
        follow=True,
    )
    assert response.status_code == 200
    organization = Organization.objects.get(name="globex")
    assert list(organization.owners.all()) == [creator]
    assert list(organization.spaces.values_list("name", flat=True)) == [LOADINGZONE]
    assert "Globex" in response.content.decode()


@pytest.mark.parametrize(
    ("name", "message"),
    [("Globex", "lowercase letters and digits"), ("new", "reserved"), ("org", "reserved"), ("acme", "already exists")],
)
def test_bad_organization_names_show_the_error_and_create_nothing(
    platform_admin: Any, organization: Organization, name: str, message: str
) -> None:
    before = Organization.objects.count()
    response = client_for(platform_admin).post(
        reverse("organization_create"), {"name": name, "confidentiality": "INTERNAL"}
    )
    assert response.status_code == 400
    errors = field_errors(response, "id_name")
    assert any(message in error for error in errors), errors
    assert Organization.objects.count() == before


# --- space page ---


def test_space_page_shows_what_the_member_may_do(member: Any, space: Space) -> None:
    response = client_for(member).get(reverse("space", args=["acme", "raw"]))
    assert response.status_code == 200
    html = response.content.decode()
    allowed = re.findall(r'<li class="(is-allowed|is-denied)">.*?<strong>(\w+)</strong>', html, re.S)
    assert allowed == [("is-allowed", "Read"), ("is-allowed", "Write"), ("is-denied", "Delete")]
    assert reverse("space_update", args=["acme", "raw"]) not in html
    assert "Who has access" not in html


def test_without_storage_the_space_page_says_what_to_do_instead_of_offering_a_commit(
    owner: Any, member: Any, space: Space
) -> None:
    connect = reverse("connection_new", args=["acme"])
    for user, advice in ((owner, f'href="{connect}"'), (member, "Ask an owner or admin of Acme Research")):
        html = client_for(user).get(reverse("space", args=["acme", "raw"])).content.decode()
        assert "data-no-storage" in html and "No storage is connected yet" in html
        assert advice in html
        assert 'id="commit-root-dir"' not in html
    assert connect not in client_for(member).get(reverse("space", args=["acme", "raw"])).content.decode()

    valid_connection(space.organization)
    html = client_for(member).get(reverse("space", args=["acme", "raw"])).content.decode()
    assert 'id="commit-root-dir"' in html and "data-no-storage" not in html


def test_space_page_is_404_for_outsiders_and_unknown_spaces(outsider: Any, member: Any, space: Space) -> None:
    assert client_for(outsider).get(reverse("space", args=["acme", "raw"])).status_code == 404
    assert client_for(member).get(reverse("space", args=["acme", "nope"])).status_code == 404


def test_space_page_for_admins_lists_access_and_offers_settings(owner: Any, space: Space) -> None:
    html = client_for(owner).get(reverse("space", args=["acme", "raw"])).content.decode()
    assert "Who has access" in html
    assert "member@example.com" in html
    assert reverse("space_update", args=["acme", "raw"]) in html
    assert reverse("space_mark_for_deletion", args=["acme", "raw"]) in html


def test_the_loadingzone_page_has_no_delete_button_and_refuses_deletion(owner: Any, space: Space) -> None:
    client = client_for(owner)
    url = reverse("space_mark_for_deletion", args=["acme", LOADINGZONE])
    assert url not in client.get(reverse("space", args=["acme", LOADINGZONE])).content.decode()
    response = client.post(url, follow=True)
    assert "cannot be deleted" in response.content.decode()
    assert Space.objects.get(organization__name="acme", name=LOADINGZONE).state == State.OPEN


def test_admin_marks_a_space_for_deletion(owner: Any, member: Any, space: Space) -> None:
    response = client_for(owner).post(reverse("space_mark_for_deletion", args=["acme", "raw"]))
    assert response.status_code == 302
    space.refresh_from_db()
    assert space.state == State.DELETION
    assert client_for(member).get(reverse("space", args=["acme", "raw"])).status_code == 404


def test_members_cannot_mark_a_space_for_deletion_or_edit_it(member: Any, space: Space) -> None:
    client = client_for(member)
    assert client.post(reverse("space_mark_for_deletion", args=["acme", "raw"])).status_code == 403
    response = client.post(
        reverse("space_update", args=["acme", "raw"]),
        {"space-confidentiality": "PUBLIC", "space-state": "OPEN", "space-retention_days": "1"},
    )
    assert response.status_code == 403
    space.refresh_from_db()
    assert (space.state, space.confidentiality) == (State.OPEN, "INTERNAL")


def test_admin_edits_a_space_and_bad_input_saves_nothing(owner: Any, space: Space) -> None:
    client = client_for(owner)
    url = reverse("space_update", args=["acme", "raw"])
    response = client.post(
        url,
        {
            "space-display_name": "Raw",
            "space-confidentiality": "PRIVATE",
            "space-state": "DELETION",
            "space-retention_days": "-1",
        },
    )
    assert response.status_code == 400
    assert field_errors(response, "id_space-state")
    assert field_errors(response, "id_space-retention_days")
    space.refresh_from_db()
    assert (space.display_name, space.confidentiality) == ("", "INTERNAL")

    response = client.post(
        url,
        {
            "space-display_name": "Raw data",
            "space-confidentiality": "PRIVATE",
            "space-state": "LOCKED",
            "space-retention_days": "7",
        },
    )
    assert response.status_code == 302
    space.refresh_from_db()
    assert (space.display_name, space.confidentiality, space.state, space.retention_days) == (
        "Raw data",
        "PRIVATE",
        "LOCKED",
        7,
    )
