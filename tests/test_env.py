"""Reading settings from the environment: typed, strict, with file variants for secrets."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from spaceport.env import env_bool, env_int, env_list, env_str


def test_a_file_variant_wins_and_is_stripped(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text("from-file\n")
    monkeypatch.setenv("SPACEPORT_T_SECRET", "from-env")
    monkeypatch.setenv("SPACEPORT_T_SECRET_FILE", str(secret))
    assert env_str("SPACEPORT_T_SECRET") == "from-file"


def test_an_unreadable_secret_file_names_the_variable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SPACEPORT_T_SECRET_FILE", str(tmp_path / "missing"))
    with pytest.raises(ImproperlyConfigured, match="SPACEPORT_T_SECRET_FILE"):
        env_str("SPACEPORT_T_SECRET")


@pytest.mark.parametrize(("raw", "expected"), [("1", True), ("YES", True), ("off", False), ("", False)])
def test_booleans(monkeypatch: pytest.MonkeyPatch, raw: str, expected: bool) -> None:
    monkeypatch.setenv("SPACEPORT_T_FLAG", raw)
    assert env_bool("SPACEPORT_T_FLAG", not expected) is expected


def test_a_vague_boolean_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPACEPORT_T_FLAG", "sometimes")
    with pytest.raises(ImproperlyConfigured, match="SPACEPORT_T_FLAG"):
        env_bool("SPACEPORT_T_FLAG")


def test_integers_and_lists(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPACEPORT_T_INT", "42")
    monkeypatch.setenv("SPACEPORT_T_LIST", " a, b ,,c\nd ")
    assert env_int("SPACEPORT_T_INT", 1) == 42
    assert env_int("SPACEPORT_T_UNSET", 7) == 7
    assert env_list("SPACEPORT_T_LIST") == ["a", "b", "c", "d"]
    monkeypatch.setenv("SPACEPORT_T_INT", "forty-two")
    with pytest.raises(ImproperlyConfigured, match="SPACEPORT_T_INT"):
        env_int("SPACEPORT_T_INT", 1)


def test_a_value_starting_with_a_dollar_is_kept_as_written(monkeypatch: pytest.MonkeyPatch) -> None:
    """django-environ would read ``$HOME`` as a reference to HOME; a secret may well start with ``$``."""
    monkeypatch.setenv("SPACEPORT_T_SECRET", "$HOME-is-part-of-the-secret")
    assert env_str("SPACEPORT_T_SECRET") == "$HOME-is-part-of-the-secret"


def test_every_reader_takes_a_file_variant(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "int").write_text("42\n")
    (tmp_path / "flag").write_text("yes\n")
    (tmp_path / "list").write_text("a\nb\n")
    monkeypatch.setenv("SPACEPORT_T_INT_FILE", str(tmp_path / "int"))
    monkeypatch.setenv("SPACEPORT_T_FLAG_FILE", str(tmp_path / "flag"))
    monkeypatch.setenv("SPACEPORT_T_LIST_FILE", str(tmp_path / "list"))
    assert env_int("SPACEPORT_T_INT", 1) == 42
    assert env_bool("SPACEPORT_T_FLAG") is True
    assert env_list("SPACEPORT_T_LIST") == ["a", "b"]
    (tmp_path / "int").write_text("43\n")
    assert env_int("SPACEPORT_T_INT", 1) == 43, "a replaced file is read afresh"
