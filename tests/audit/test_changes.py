"""What an audit entry keeps of a change: pure, no database."""

from __future__ import annotations

from datetime import UTC, datetime

from relaydesk.audit.changes import SECRET_MARKER, difference, label, plain, snapshot


def test_only_changed_fields_are_kept_and_bookkeeping_is_not() -> None:
    before = {"id": 3, "name": "leads", "actions": {"department": "sales"}, "enabled": True, "updated_at": 1}
    after = {"id": 3, "name": "leads", "actions": {"department": "service"}, "enabled": True, "updated_at": 2}
    assert difference(before, after) == (
        {"actions": {"department": "sales"}},
        {"actions": {"department": "service"}},
    )
    assert difference(before, dict(before)) == ({}, {})


def test_a_secret_shows_that_it_changed_never_its_value() -> None:
    old, new = difference({"credentials_encrypted": "gAAAA-old"}, {"credentials_encrypted": "gAAAA-new"})
    assert old == {"credentials_encrypted": SECRET_MARKER} and new == {"credentials_encrypted": SECRET_MARKER}
    assert snapshot({"password_hash": "scrypt$x", "name": "Ada"}) == {
        "name": "Ada",
        "password_hash": SECRET_MARKER,
    }
    assert difference({"password_hash": None}, {"password_hash": "scrypt$x"}) == (
        {"password_hash": None},
        {"password_hash": SECRET_MARKER},
    )


def test_values_become_plain_json_and_objects_are_named_as_people_know_them() -> None:
    at = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
    assert plain({"at": at, "days": ("mon", "tue")}) == {
        "at": "2026-12-07T12:00:00+00:00",
        "days": ["mon", "tue"],
    }
    assert label({"id": 9, "key": "north", "name": ""}) == "north"
    assert label({"id": 9, "name": "Nora North", "email": "n@x"}) == "Nora North"
    assert label({"id": 9}) == "#9"
