"""The admin site: every model reviewable, changes audited, the audit trail and loadingzone protected."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse

from portal.audit.models import AuditEvent
from portal.tenancy.models import LOADINGZONE, Organization, Space


@pytest.fixture
def admin_client_for(platform_admin: Any) -> Client:
    client = Client()
    client.force_login(platform_admin)
    return client


def test_every_spaceport_model_has_a_changelist(admin_client_for: Client, space: Space) -> None:
    ours = [m for m in admin.site._registry if m._meta.app_label in {"portal", "accessgrants", "connections"}]
    assert {m._meta.model_name for m in ours} >= {"organization", "space", "grant", "apitoken", "auditevent"}
    for model in ours:
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        response = admin_client_for.get(url, {"q": "acme"})
        assert response.status_code == 200, url


def test_task_results_and_schedules_are_visible(admin_client_for: Client) -> None:
    for name in ("django_celery_results_taskresult", "django_celery_beat_periodictask"):
        assert admin_client_for.get(reverse(f"admin:{name}_changelist")).status_code == 200


def test_an_organization_created_in_the_admin_gets_its_loadingzone_and_is_audited(
    admin_client_for: Client, platform_admin: Any
) -> None:
    response = admin_client_for.post(
        reverse("admin:portal_organization_add"),
        {
            "name": "newco",
            "display_name": "New Co",
            "description": "",
            "confidentiality": "INTERNAL",
            "state": "OPEN",
            "tags": "[]",
            "company": "",
            "spaces-TOTAL_FORMS": "0",
            "spaces-INITIAL_FORMS": "0",
            "spaces-MIN_NUM_FORMS": "0",
            "spaces-MAX_NUM_FORMS": "1000",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    organization = Organization.objects.get(name="newco")
    assert list(organization.spaces.values_list("name", flat=True)) == [LOADINGZONE]
    event = AuditEvent.objects.get(action="organization.create", target_id=str(organization.pk))
    assert event.actor == platform_admin
    assert event.request_id


def test_the_audit_trail_cannot_be_changed_or_deleted(admin_client_for: Client, space: Space) -> None:
    event = AuditEvent.objects.first()
    assert event is not None
    change = reverse("admin:portal_auditevent_change", args=[event.pk])
    assert admin_client_for.get(change).status_code == 200
    assert admin_client_for.post(change, {"action": "tampered"}).status_code == 403
    assert admin_client_for.post(reverse("admin:portal_auditevent_delete", args=[event.pk])).status_code == 403
    event.refresh_from_db()
    assert event.action != "tampered"


def test_the_loadingzone_cannot_be_deleted_in_the_admin(admin_client_for: Client, organization: Organization) -> None:
    loadingzone = organization.spaces.get(name=LOADINGZONE)
    url = reverse("admin:portal_space_delete", args=[loadingzone.pk])
    assert admin_client_for.post(url, {"post": "yes"}).status_code == 403
    assert Space.objects.filter(pk=loadingzone.pk).exists()


def test_people_without_staff_rights_are_sent_to_sign_in(member: Any) -> None:
    client = Client()
    client.force_login(member)
    response = client.get(reverse("admin:portal_auditevent_changelist"))
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_the_index_lists_what_it_reviews_and_not_library_clutter(admin_client_for: Client) -> None:
    html = admin_client_for.get(reverse("admin:index")).content.decode()
    for shown in ("Personal API tokens", "Periodic tasks", "Task results", "Audit events", "Cloud connections"):
        assert shown in html, shown
    for hidden in (
        "Solar events",
        "Clocked",
        "Crontabs",
        "Intervals",
        "Group results",
        "Social accounts",
        "Social applications",
    ):
        assert hidden not in html, hidden
    assert "Api tokens" not in html


def test_periodic_tasks_can_still_be_added_without_the_schedule_admins(admin_client_for: Client) -> None:
    assert admin_client_for.get(reverse("admin:django_celery_beat_periodictask_add")).status_code == 200


def test_admin_pages_name_the_portal_icon(admin_client_for: Client, space: Space) -> None:
    """Without the icon link the browser asks for /favicon.ico and every admin page logs a 404."""
    for url in (reverse("admin:index"), reverse("admin:portal_space_change", args=[space.pk])):
        html = admin_client_for.get(url).content.decode()
        assert 'rel="icon" href="/static/spaceport-mark.svg"' in html
        assert html.count("Spaceport administration") >= 1


def test_reviewers_choose_which_connection_serves_an_organization(
    admin_client_for: Client, platform_admin: Any, organization: Organization
) -> None:
    from connections.active import active_connection, make_active
    from connections.models import CloudConnection

    first, second = (
        CloudConnection.objects.create(
            organization=organization, name=name, provider="s3compat", method="s3_static_keys"
        )
        for name in ("first", "second")
    )
    make_active(first)
    changelist = reverse("admin:connections_cloudconnection_changelist")

    both = {"action": "serve", "_selected_action": [first.pk, second.pk]}
    admin_client_for.post(changelist, both)
    assert active_connection(organization) == first, "two connections of one organization: nothing changes"

    admin_client_for.post(changelist, {"action": "serve", "_selected_action": [second.pk]})
    assert active_connection(organization) == second
    assert list(CloudConnection.objects.filter(organization=organization, active=True)) == [second]
    event = AuditEvent.objects.get(action="connection.activate")
    assert (event.actor, event.target_id) == (platform_admin, str(second.pk))
