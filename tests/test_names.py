"""Names are refused, never silently changed: space names follow Azure's container rules in the API and the
pages alike, and an over-long name gets a field error instead of being cut short by the browser."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from portal.tenancy.models import Organization, Space
from tests.conftest import assert_api_error
from tests.pages_support import client_for, field_errors

BAD_SPACE_NAMES = ["-lead", "lead-", "le--ad", "ab", "Lead", "le_ad", "x" * 64]
GOOD_SPACE_NAMES = ["abc", "lead-1", "a-b-c", "0ab", "x" * 63]


@pytest.mark.parametrize("name", BAD_SPACE_NAMES)
def test_the_api_refuses_a_space_name_azure_would_refuse(api: Any, organization: Organization, name: str) -> None:
    response = api(organization.owners.get()).post("/api/v1/organizations/acme/spaces/", {"name": name}, format="json")
    assert_api_error(response, 400, "name")
    assert not Space.objects.filter(name=name).exists()


@pytest.mark.parametrize("name", BAD_SPACE_NAMES)
def test_the_page_refuses_a_space_name_azure_would_refuse(owner: Any, organization: Organization, name: str) -> None:
    response = client_for(owner).post(
        reverse("space_create", args=["acme"]),
        {"space-name": name, "space-confidentiality": "INTERNAL", "space-retention_days": "10"},
    )
    assert response.status_code == 400
    assert field_errors(response, "id_space-name")
    assert not Space.objects.filter(organization=organization).exclude(name="loadingzone").exists()


@pytest.mark.parametrize("name", GOOD_SPACE_NAMES)
def test_valid_container_names_are_accepted(api: Any, organization: Organization, name: str) -> None:
    response = api(organization.owners.get()).post("/api/v1/organizations/acme/spaces/", {"name": name}, format="json")
    assert response.status_code == 201, response.content
    assert Space.objects.filter(organization=organization, name=name).exists()


def test_name_inputs_carry_no_maxlength_so_nothing_is_cut_silently(owner: Any, organization: Organization) -> None:
    client = client_for(owner)
    for url in (reverse("organization", args=["acme"]), reverse("organization_create")):
        html = client.get(url).content.decode()
        assert "maxlength" not in html, url


def test_an_over_long_space_name_is_refused_with_the_limit_not_shortened(
    owner: Any, organization: Organization
) -> None:
    response = client_for(owner).post(
        reverse("space_create", args=["acme"]),
        {"space-name": "a" * 70, "space-confidentiality": "INTERNAL", "space-retention_days": "10"},
    )
    assert response.status_code == 400
    assert field_errors(response, "id_space-name") == ["Ensure this value has at most 63 characters (it has 70)."]
    assert organization.spaces.count() == 1


def test_an_over_long_organization_name_is_refused_with_the_limit(platform_admin: Any) -> None:
    response = client_for(platform_admin).post(
        reverse("organization_create"), {"name": "a" * 30, "confidentiality": "INTERNAL"}
    )
    assert response.status_code == 400
    assert field_errors(response, "id_name") == ["Ensure this value has at most 24 characters (it has 30)."]
    assert not Organization.objects.exists()
