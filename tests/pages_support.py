"""Helpers for the tests that read rendered pages."""

from __future__ import annotations

import re
from typing import Any

from django.test import Client


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def field_errors(response: Any, field_id: str) -> list[str]:
    """The error messages rendered right after the field with this id, as a person reads them."""
    html = response.content.decode()
    match = re.search(rf'id="{re.escape(field_id)}".*?(?=<div class="field|<div class="form-actions)', html, re.S)
    assert match, f"field {field_id} is not on the page"
    return re.findall(r'<p class="field-error"[^>]*>(.*?)</p>', match.group(0), re.S)
