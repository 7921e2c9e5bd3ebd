"""Signing secrets of access keys: served only while the key may sign, and refused at once after a
key is deactivated, rotated past its grace, expired or deleted."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from accessgrants.accesskeys import deactivate_key, delete_key, issue_key, reactivate_key
from accessgrants.keysecrets import key_secret, signing_secret
from gateway.errors import S3Error
from gateway.keys import access_key_secret
from gateway.sigv4 import verify
from portal.core.cache import process_memories
from portal.tenancy.models import Space
from tests.gateway_signing import SIGNED_AT, signed


@pytest.fixture
def issued(space: Space, member: Any) -> Any:
    return issue_key(member, space.organization, lifetime_days=30)


def test_an_active_key_signs_with_its_secret(issued: Any) -> None:
    assert signing_secret(issued.key.access_key_id) == issued.secret_key
    assert key_secret(issued.key.access_key_id).refusal is None


def test_an_unknown_key_has_no_secret(space: Space) -> None:
    found = key_secret("SPKNOBODYNOBODY00000")
    assert found.secret is None
    assert found.refusal == "no such access key"


def test_deactivation_and_deletion_are_felt_at_once(issued: Any, member: Any) -> None:
    key_id = issued.key.access_key_id
    assert signing_secret(key_id) is not None
    deactivate_key(issued.key.pk)
    assert key_secret(key_id).refusal == "the key is inactive"
    reactivate_key(issued.key.pk)
    assert signing_secret(key_id) == issued.secret_key
    delete_key(issued.key.pk)
    assert signing_secret(key_id) is None


def test_an_expired_key_has_no_secret(issued: Any) -> None:
    later = timezone.now() + timedelta(days=31)
    assert key_secret(issued.key.access_key_id, later).refusal == "the key expired"


def test_the_secret_memory_says_why_it_holds_secrets(issued: Any) -> None:
    memory = next(m for m in process_memories() if m.name == "access key secrets")
    assert memory.secrets
    assert memory.entries > 0


def test_a_warm_secret_costs_no_query(issued: Any, django_assert_num_queries: Any) -> None:
    signing_secret(issued.key.access_key_id)
    with django_assert_num_queries(0):
        assert signing_secret(issued.key.access_key_id) == issued.secret_key


def test_a_request_signed_with_an_issued_key_verifies_until_it_is_deactivated(issued: Any, member: Any) -> None:
    raw = signed("PUT", "/acme-raw/in/x.csv", body=b"x", key_id=issued.key.access_key_id, secret=issued.secret_key)
    verified = verify(raw.method, raw.path, raw.query, raw.headers, signing_secret, SIGNED_AT)
    assert verified.access_key_id == issued.key.access_key_id
    deactivate_key(issued.key.pk)
    with pytest.raises(S3Error) as caught:
        verify(raw.method, raw.path, raw.query, raw.headers, signing_secret, SIGNED_AT)
    assert caught.value.code == "InvalidAccessKeyId"


def test_the_gateway_lookup_names_the_reason(issued: Any) -> None:
    assert access_key_secret(issued.key.access_key_id) == issued.secret_key
    deactivate_key(issued.key.pk)
    with pytest.raises(S3Error) as caught:
        access_key_secret(issued.key.access_key_id)
    assert caught.value.code == "InvalidAccessKeyId"
    assert "the key is inactive" in caught.value.message
    with pytest.raises(S3Error, match="no such access key"):
        access_key_secret("SPKNOBODYNOBODY00000")
