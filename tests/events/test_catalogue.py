"""The event catalogue against the live schema (protocol.md 9.2): every REST write operation
of `/api/schema/` produces catalogued events or is declared private-to-caller or exempt
(with a reason), so a new endpoint without an event fails here; and the publish-time check
(`trava.events_catalogue.check_event`) accepts what the catalogue declares and nothing else.
"""

from __future__ import annotations

import httpx
import pytest

from trava.events_catalogue import (
    EVENTS,
    WRITE_METHODS,
    WRITE_OPERATIONS,
    EventSchemaError,
    check_event,
    check_on_publish,
)


@pytest.fixture(scope="module")
def write_operations(daphne_server) -> set[str]:  # type: ignore[no-untyped-def]
    response = httpx.get(f"{daphne_server.http_url}/api/schema/", params={"format": "json"}, timeout=30)
    assert response.status_code == 200, response.text[:300]
    return {
        f"{method.upper()} {path}"
        for path, operations in response.json()["paths"].items()
        for method in operations
        if method in WRITE_METHODS
    }


def test_every_write_operation_of_the_schema_is_in_the_catalogue(write_operations: set[str]) -> None:
    missing = sorted(write_operations - set(WRITE_OPERATIONS))
    assert not missing, f"write operations with no events and no declaration: {missing}"


def test_every_mapped_operation_exists_in_the_schema(write_operations: set[str]) -> None:
    assert not sorted(set(WRITE_OPERATIONS) - write_operations)


def test_every_declaration_names_catalogued_events_or_says_why_not() -> None:
    for operation, writes in WRITE_OPERATIONS.items():
        assert set(writes.events) <= set(EVENTS), operation
        if writes.exempt:
            assert not writes.events and not writes.private, operation
            assert len(writes.exempt) > 20, operation  # a reason, not a placeholder
        else:
            assert writes.events, f"{operation}: no events and not exempt"


def test_every_catalogued_event_is_produced_by_some_operation_or_by_realtime() -> None:
    produced = {type_ for writes in WRITE_OPERATIONS.values() for type_ in writes.events}
    by_realtime = {type_ for type_, spec in EVENTS.items() if "sent by realtime" in spec.rooms}
    # Changes with no REST endpoint of their own arrive through the admin (same signals).
    admin_only = {"activity_updated", "activity_deleted", "photo_comment_deleted", "journal_comment_deleted"}
    assert set(EVENTS) == produced | by_realtime | admin_only


def test_private_operations_announce_to_a_user_room() -> None:
    for operation, writes in WRITE_OPERATIONS.items():
        if writes.private:
            assert any(EVENTS[type_].rooms.startswith("user") for type_ in writes.events), operation


# --- The publish-time check ------------------------------------------------------------------
def test_check_event_accepts_declared_payloads() -> None:
    check_event("member_removed", {"tripId": 1, "userId": 2})
    check_event("journal_entry_deleted", {"id": 3, "tripId": None})
    check_event("notifications_read", {"ids": [1, 2], "readAt": "2026-05-01T10:00:00.123456Z"})


@pytest.mark.parametrize(
    ("type_", "payload", "where"),
    [
        ("member_removed", {"tripId": 1}, "'userId' is a required property"),
        ("member_removed", {"tripId": 1, "userId": "2"}, "userId: '2' is not of type 'integer'"),
        ("expense_deleted", {"id": 1, "tripId": 2, "amount": "3"}, "'amount' was unexpected"),
        ("member_role_changed", {"tripId": 1, "role": "owner"}, "is a required property"),
        ("notifications_read", {"ids": [1], "readAt": "yesterday"}, "is not a 'date-time'"),
        ("no_such_event", {}, "not in trava.events_catalogue.EVENTS"),
    ],
)
def test_check_event_rejects_drift(type_: str, payload: dict, where: str) -> None:
    with pytest.raises(EventSchemaError, match=where):
        check_event(type_, payload)


def test_check_on_publish_raises_under_the_test_setting_only(settings) -> None:  # type: ignore[no-untyped-def]
    settings.EVENTS_VALIDATE_ON_PUBLISH = True
    with pytest.raises(EventSchemaError):
        check_on_publish("member_removed", {"tripId": 1})
    check_on_publish("member_removed", {"tripId": 1, "userId": 2})
    settings.EVENTS_VALIDATE_ON_PUBLISH = False
    check_on_publish("member_removed", {"tripId": 1})  # production: not checked
