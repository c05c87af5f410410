"""The event catalogue (trava.events_catalogue) against protocol.md section 6 and the
live OpenAPI schema. Every event a test in this package receives is validated against
its declared schema by `conftest.event()`; this checks the declarations themselves, and
that the check is not vacuous."""

from __future__ import annotations

import importlib
import json
import re

import jsonschema
import pytest
from djangorestframework_camel_case.util import camelize

from tests.events.conftest import components, validate
from trava.events_catalogue import EVENTS, MESSAGE_ACK

PROTOCOL_SECTION_6 = {
    "trip_updated", "itinerary_modified", "expense_added", "budget_updated",
    "photo_uploaded", "photo_commented", "photo_liked", "album_updated",
    "message_sent", "notification", "user_joined", "user_left",
    "journal_entry_created", "journal_entry_updated", "journal_entry_published", "journal_comment",
}  # fmt: skip


# protocol.md section 9.2: the complete live model.
PROTOCOL_SECTION_9_2 = {
    "trip_created", "trip_deleted", "member_added", "member_removed", "member_role_changed",
    "expense_updated", "expense_deleted", "activity_created", "activity_updated",
    "activity_deleted", "rsvp_changed",
    "photo_updated", "photo_deleted", "photo_unliked", "photo_comment_deleted",
    "journal_entry_deleted", "journal_comment_deleted", "notifications_read",
}  # fmt: skip


def test_catalogue_declares_exactly_the_event_types_of_sections_6_and_9_2() -> None:
    assert set(EVENTS) == PROTOCOL_SECTION_6 | PROTOCOL_SECTION_9_2


def test_every_event_type_the_apps_send_is_declared() -> None:
    sent = set()
    for module in ("trips.events", "social.events", "photos.events", "journals.events"):
        events = importlib.import_module(module)
        sent |= {value for name, value in vars(events).items() if name.isupper() and value in set(EVENTS)}
    assert sent == set(EVENTS) - {"user_joined", "user_left"}  # presence: realtime's


@pytest.mark.parametrize("spec", [*EVENTS.values(), MESSAGE_ACK], ids=[*EVENTS, "message_ack"])
def test_declared_serializer_is_the_component_in_the_live_schema(server, spec) -> None:  # type: ignore[no-untyped-def]
    if spec.serializer is None:  # a JSON Schema of its own, whose $refs name live components
        refs = re.findall(r"#/components/schemas/(\w+)", json.dumps(spec.schema))
        assert set(refs) <= set(components()), refs
        if spec not in (EVENTS["user_joined"], EVENTS["user_left"]):
            return
        assert refs == ["User"]
        sent = {"roomId": "trip_1", "user": {"id": 1, "username": "alice"}}  # realtime's presence
        validate(spec, sent)
        for bad in ({**sent, "user": {"id": 1}}, {"roomId": "trip_1"}, {**sent, "extra": 1}):
            with pytest.raises(jsonschema.ValidationError):
                validate(spec, bad)
        return
    module, name = spec.serializer.rsplit(".", 1)
    serializer = getattr(importlib.import_module(module), name)()
    component = components()[spec.component]
    assert set(component["properties"]) == set(camelize({field: 1 for field in serializer.fields}))


def test_the_payload_check_rejects_a_wrong_shape(server) -> None:
    trip = EVENTS["trip_updated"]
    good = {
        "id": 1, "title": "T", "description": "", "destination": "D", "startDate": "2026-05-01",
        "endDate": "2026-05-02", "visibility": "private", "currency": "EUR", "budgetTotal": None,
        "createdBy": None, "createdAt": "2026-05-01T00:00:00Z", "updatedAt": "2026-05-01T00:00:00Z",
    }  # fmt: skip
    validate(trip, good)
    for bad in (
        {**good, "budgetTotal": 12.5},  # money is a decimal string, never a float
        {**good, "extra": 1},  # no undeclared keys
        {k: v for k, v in good.items() if k != "title"},  # every declared key
        {**good, "visibility": "secret"},  # enums
    ):
        with pytest.raises(jsonschema.ValidationError):
            validate(trip, bad)
    item = EVENTS["itinerary_modified"]
    with pytest.raises(jsonschema.ValidationError):
        validate(item, {"action": "created"})  # the representation is required besides action
