"""The shared actors every test can use: an owner, a member, an outsider and a platform admin."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.db import connection
from rest_framework.test import APIClient

from portal.auth.bearer import forget_parsed_keys
from portal.tenancy.changes import create_organization, create_space
from portal.tenancy.grants import Grant, Role, Scope
from portal.tenancy.models import Organization, Space

pytest_plugins = [
    "tests.databases",
    "tests.emptying",
    "tests.fixtures.emulators",
    "tests.fixtures.worker",
    "tests.fixtures.browser",
    "tests.fixtures.gateway",
]

PASSWORD = "correct-horse-battery-staple"


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: None, django_db_blocker: Any) -> Iterator[None]:
    """The test database, dropped at the end even if a thread the run started (a live server's,
    a gateway's) still holds a session on it: PostgreSQL refuses to drop a database in use, which
    left one database behind per run."""
    yield
    if connection.vendor != "postgresql":
        return
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


@pytest.fixture(autouse=True)
def own_cache_namespace(settings: Any) -> str:
    """The cache is the shared Redis: a key prefix per test keeps rate-limit counts and cached
    keys from leaking between tests and between runs.

    Passwords are hashed with a fast hasher: tests sign in often and hashing cost is not under test.
    """
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    prefix = f"test-{uuid.uuid4().hex}"
    caches = copy.deepcopy(settings.CACHES)
    caches["default"]["KEY_PREFIX"] = prefix
    settings.CACHES = caches
    forget_parsed_keys()
    return prefix


def assert_expires_in(expires_at: datetime, lifetime: timedelta, since: datetime) -> None:
    """The expiry is ``lifetime`` after some moment between ``since`` and now, to the second.

    A window instead of a tolerance: on a busy machine the issuing call itself may take seconds.
    """
    now = datetime.now(UTC)
    assert since + lifetime - timedelta(seconds=1) <= expires_at <= now + lifetime + timedelta(seconds=1)


def assert_api_error(response: Any, status: int, field: str | None = None) -> None:
    """Every REST API error has the one shape and a message; validation errors name the field."""
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error", "message", "fields"}
    assert body["message"]
    if field is not None:
        assert field in body["fields"], body


def make_user(email: str, *, superuser: bool = False) -> Any:
    user = get_user_model().objects.create_user(
        username=email, email=email, password=PASSWORD, is_superuser=superuser, is_staff=superuser
    )
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    return user


@pytest.fixture
def platform_admin(db: None) -> Any:
    return make_user("root@example.com", superuser=True)


@pytest.fixture
def owner(db: None) -> Any:
    return make_user("owner@example.com")


@pytest.fixture
def member(db: None) -> Any:
    return make_user("member@example.com")


@pytest.fixture
def outsider(db: None) -> Any:
    return make_user("outsider@example.com")


@pytest.fixture
def organization(owner: Any) -> Organization:
    """``acme``, owned by ``owner``; ``member`` has access to it and supplies ``raw``."""
    return create_organization(name="acme", display_name="Acme Research", owner=owner)


@pytest.fixture
def space(organization: Organization, member: Any) -> Space:
    raw = create_space(organization, name="raw", description="Raw measurements")
    Grant.objects.create(user=member, scope=Scope.ORGANIZATION, role=Role.ACCESS, organization=organization)
    Grant.objects.create(user=member, scope=Scope.SPACE, role=Role.SUPPLIER, organization=organization, space=raw)
    return raw


@pytest.fixture
def admin_user(organization: Organization) -> Any:
    """Someone holding the ``admin`` organization role without owning the organization."""
    user = make_user("admin@example.com")
    Grant.objects.create(user=user, scope=Scope.ORGANIZATION, role=Role.ADMIN, organization=organization)
    return user


def api_client_for(user: Any) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


@pytest.fixture
def api() -> Any:
    """``api(user)`` gives an API client signed in as ``user`` (``None`` for anonymous)."""
    return api_client_for
