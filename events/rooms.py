"""Room ids and the registry of room types (protocol.md section 3): the one spelling of a
room id, who may join a room, and who an event of the room reaches (its audience,
protocol.md 9.1).

The apps fill the registry: each registers the room types it brings from its own
realtime.py, loaded from its AppConfig.ready() (`register_room_type`), with its access
predicate (the app's permission predicate, so the REST views, the selectors, a join and
an event's audience follow one rule) and its audience rule. realtime reads the registry
and knows no app. Every `can_join` runs in a worker thread (ORM); `room_audience` runs
where the event is built (at commit, in the writer's thread).

Room ids are strict: `<registered type>_[1-9][0-9]{0,18}` matched in full (no
`$`-before-newline alias like `trip_1\\n`), and the id must fit a 64-bit primary key.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from events.audience import Audience

MAX_OBJECT_ID = 2**63 - 1  # a bigint primary key
MAX_ROOM_ID_LENGTH = 64  # what a client may send; a real id fits the event log's 40
# A type name, short enough that its longest id fits the event log's room column (40).
TYPE_NAME = re.compile(r"[a-z][a-z0-9]{0,19}")
USER = "user"  # the personal room every authenticated connection is in (trava.accounts)


@dataclass(frozen=True)
class RoomType:
    name: str
    # May this (active) user join the room of this object now? Missing is False.
    can_join: Callable[[Any, int], bool]
    # Who may receive an event of the room that happens now (frozen with the event).
    audience: Callable[[int], Audience]
    # Staff may join any room of this type (protocol.md: admin override).
    staff_override: bool = True


@dataclass(frozen=True)
class RoomId:
    type: RoomType
    object_id: int
    value: str


ROOM_TYPES: dict[str, RoomType] = {}
_room_id = re.compile(r"(?!)")  # matches nothing until a type is registered


def register_room_type(room_type: RoomType) -> RoomType:
    """Called from an app's AppConfig.ready() (its realtime.py). A name is registered once."""
    global _room_id
    if not TYPE_NAME.fullmatch(room_type.name):
        raise ValueError(f"room type name {room_type.name!r} must match {TYPE_NAME.pattern}")
    if ROOM_TYPES.get(room_type.name, room_type) is not room_type:
        raise ValueError(f"room type {room_type.name!r} is already registered")
    ROOM_TYPES[room_type.name] = room_type
    names = "|".join(re.escape(name) for name in sorted(ROOM_TYPES))
    _room_id = re.compile(rf"({names})_([1-9][0-9]{{0,18}})")
    return room_type


def room_id(type_name: str, object_id: int) -> str:
    """The id of a room: `room_id("trip", 5) == "trip_5"`."""
    return f"{type_name}_{int(object_id)}"


def room_type_of(value: str) -> str:
    """The type name a room id is spelled with (`trip_5` -> `trip`), not looked up."""
    return value.split("_", 1)[0]


def user_room(user_id: int) -> str:
    """The user's personal room (their notifications, their other tabs)."""
    return room_id(USER, user_id)


def parse_room_id(value: Any) -> RoomId | None:
    """`trip_12` -> RoomId; None for a malformed id or an unregistered room type."""
    match = _room_id.fullmatch(value) if isinstance(value, str) else None
    if match is None or int(match.group(2)) > MAX_OBJECT_ID:
        return None
    return RoomId(ROOM_TYPES[match.group(1)], int(match.group(2)), value)


class Access(enum.Enum):
    DENIED = 0
    GRANTED = 1
    STAFF = 2  # only through the staff override (admin inspection)

    def __bool__(self) -> bool:
        return self is not Access.DENIED


def can_join_sync(user: Any, room: RoomId) -> Access:
    """Missing and forbidden are the same DENIED (no existence leak). The room's own rule
    first, so a staff member who is also a trip member is there as a member."""
    if not user.is_active:
        return Access.DENIED
    if room.type.can_join(user, room.object_id):
        return Access.GRANTED
    if user.is_staff and room.type.staff_override:
        return Access.STAFF
    return Access.DENIED


def room_audience(room_id: str) -> Audience:
    """Who may receive an event of `room_id` that happens now (ORM: a worker thread)."""
    room = parse_room_id(room_id)
    if room is None:
        return Audience.of_users(())
    return room.type.audience(room.object_id)
