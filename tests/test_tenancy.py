from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from portal.core.errors import DomainError
from portal.tenancy.changes import create_organization, mark_space_for_deletion
from portal.tenancy.models import LOADINGZONE, Organization, Space


def test_creating_an_organization_creates_its_loadingzone(db: None) -> None:
    organization = create_organization(name="orga1")
    assert list(organization.spaces.values_list("name", flat=True)) == [LOADINGZONE]


@pytest.mark.parametrize("name", ["ab", "Orga", "org-a", "a" * 25, "org", "spc", "orga_1"])
def test_invalid_organization_names_are_refused_and_nothing_is_saved(db: None, name: str) -> None:
    with pytest.raises(ValidationError) as raised:
        create_organization(name=name)
    assert "name" in raised.value.message_dict
    assert not Organization.objects.exists()
    assert not Space.objects.exists()


def test_the_loadingzone_cannot_be_deleted(organization: Organization) -> None:
    loadingzone = organization.spaces.get(name=LOADINGZONE)
    with pytest.raises(DomainError) as raised:
        mark_space_for_deletion(loadingzone)
    assert raised.value.field == "space"
    loadingzone.refresh_from_db()
    assert loadingzone.state == "OPEN"
