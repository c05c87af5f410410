"""The registries the apps fill (events.rooms, events.commands): one spelling of a room
id, strict parsing built from the registered types, and commands whose error codes are
the protocol's."""

from __future__ import annotations

import pytest

from events import commands, rooms
from realtime import protocol


def test_room_ids_are_spelled_once_and_parsed_strictly() -> None:
    assert rooms.room_id("trip", 5) == "trip_5"
    assert rooms.user_room(7) == "user_7"
    assert {"trip", "album", "journal", "user", "packing"} <= set(rooms.ROOM_TYPES)
    parsed = rooms.parse_room_id("packing_12")
    assert parsed is not None and (parsed.type.name, parsed.object_id) == ("packing", 12)
    assert rooms.parse_room_id(f"trip_{2**63 - 1}") is not None
    for bad in ("trip_1\n", "trip_0", "trip_01", f"trip_{2**63}", "nope_1", "trip_", "trip", 5, None):
        assert rooms.parse_room_id(bad) is None, bad


def test_a_room_type_is_registered_once_under_a_plain_name() -> None:
    trip = rooms.ROOM_TYPES["trip"]
    assert rooms.register_room_type(trip) is trip  # the same type again: a no-op
    with pytest.raises(ValueError, match="already registered"):
        rooms.register_room_type(rooms.RoomType("trip", trip.can_join, trip.audience))
    with pytest.raises(ValueError, match="must match"):
        rooms.register_room_type(rooms.RoomType("Bad_name", trip.can_join, trip.audience))
    assert rooms.parse_room_id("Bad_name_1") is None


def test_commands_answer_with_the_protocols_codes_and_declare_their_room_field() -> None:
    codes = {commands.INVALID_MESSAGE, commands.INVALID_ROOM, commands.ROOM_ACCESS_DENIED}
    assert codes | {commands.MESSAGE_TOO_LARGE} <= protocol.ERROR_CODES
    send_message = commands.COMMANDS["send_message"]
    assert send_message.reply_type == "message_ack"
    assert send_message.room_field == "roomId"
    assert send_message.schema["text"].too_long_code == protocol.Err.MESSAGE_TOO_LARGE
    assert set(protocol.client_schemas()) == {*protocol.CLIENT_SCHEMAS, "send_message"}
