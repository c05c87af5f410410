"""The room types of protocol.md section 3: how an id parses, who may join, its group,
and who an event of the room reaches (its audience, protocol.md 9.1).

Adding a room type is one `RoomType(...)` line in ROOM_TYPES plus a `can_join` and an
`audience` function. Apps are imported lazily inside the predicates (photos and journals
may not be installed yet, and realtime reaches the apps only through their permission
predicates). Every `can_join` runs in a worker thread (ORM), through `check_access`;
`room_audience` runs where the event is built (at commit, in the writer's thread).

Room ids are strict: `^(trip|album|journal|user)_[1-9][0-9]{0,18}$` matched in full (no
`$`-before-newline alias like `trip_1\n`), and the id must fit a 64-bit primary key.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from channels.db import database_sync_to_async

from realtime.delivery.audience import EVERYONE, Audience

ROOM_ID = re.compile(r"(trip|album|journal|user)_([1-9][0-9]{0,18})")
MAX_OBJECT_ID = 2**63 - 1  # a bigint primary key


def _can_join_trip(user: Any, trip_id: int) -> bool:
    from trips.models import Trip
    from trips.permissions import can_view_trip

    trip = Trip.objects.filter(pk=trip_id).first()
    return trip is not None and can_view_trip(user, trip)


def _can_join_album(user: Any, album_id: int) -> bool:
    from photos.models import Album
    from photos.permissions import can_view_album

    album = Album.objects.select_related("trip").filter(pk=album_id).first()
    return album is not None and can_view_album(user, album)


def _can_join_journal(user: Any, entry_id: int) -> bool:
    from journals.models import JournalEntry
    from journals.permissions import can_view_journal_entry

    entry = JournalEntry.objects.filter(pk=entry_id).first()
    return entry is not None and can_view_journal_entry(user, entry)


def _can_join_user(user: Any, user_id: int) -> bool:
    return user.pk == user_id


def _trip_audience(trip_id: int) -> Audience:
    from trips.models import Trip, TripMember, Visibility

    visibility = Trip.objects.filter(pk=trip_id).values_list("visibility", flat=True).first()
    if visibility == Visibility.PUBLIC:
        return EVERYONE
    return Audience.of_users(TripMember.objects.filter(trip_id=trip_id).values_list("user_id", flat=True))


def _album_audience(album_id: int) -> Audience:
    from photos.models import Album

    trip_id = Album.objects.filter(pk=album_id).values_list("trip_id", flat=True).first()
    return Audience.of_users(()) if trip_id is None else _trip_audience(trip_id)


def _journal_audience(entry_id: int) -> Audience:
    from journals.models import EntryStatus, JournalEntry
    from journals.permissions import journal_editor_ids

    entry = JournalEntry.objects.filter(pk=entry_id).first()
    if entry is None:
        return Audience.of_users(())
    if entry.status != EntryStatus.PUBLISHED:
        return Audience.of_users(journal_editor_ids(entry))
    if entry.trip_id is None:
        return EVERYONE
    # Its readers are the trip's: editors who are still trip members are among them.
    return _trip_audience(entry.trip_id)


def _user_audience(user_id: int) -> Audience:
    return Audience.of_users((user_id,))


@dataclass(frozen=True)
class RoomType:
    name: str
    can_join: Callable[[Any, int], bool]
    # Who may receive an event of the room that happens now (frozen with the event).
    audience: Callable[[int], Audience]
    # Staff may join any room of this type (protocol.md: admin override).
    staff_override: bool = True


ROOM_TYPES: dict[str, RoomType] = {
    room.name: room
    for room in (
        RoomType("trip", _can_join_trip, _trip_audience),
        RoomType("album", _can_join_album, _album_audience),
        RoomType("journal", _can_join_journal, _journal_audience),
        RoomType("user", _can_join_user, _user_audience),
    )
}


@dataclass(frozen=True)
class RoomId:
    type: RoomType
    object_id: int
    value: str

    @property
    def group(self) -> str:
        """The channel-layer group the node hubs subscribe to ([A-Za-z0-9._-], < 100)."""
        return group_name(self.value)


def parse_room_id(value: str) -> RoomId | None:
    """`trip_12` -> RoomId; None for a malformed id or an unknown room type."""
    match = ROOM_ID.fullmatch(value) if isinstance(value, str) else None
    if match is None or int(match.group(2)) > MAX_OBJECT_ID:
        return None
    return RoomId(ROOM_TYPES[match.group(1)], int(match.group(2)), value)


def group_name(room_id: str) -> str:
    return f"room.{room_id}"


def user_room(user_id: int) -> str:
    return f"user_{user_id}"


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
    try:
        if room.type.can_join(user, room.object_id):
            return Access.GRANTED
    except ImportError:  # the app of this room type is not installed (yet)
        return Access.DENIED
    if user.is_staff and room.type.staff_override:
        return Access.STAFF
    return Access.DENIED


check_access = database_sync_to_async(can_join_sync)


def room_audience(room_id: str) -> Audience:
    """Who may receive an event of `room_id` that happens now (ORM: a worker thread)."""
    room = parse_room_id(room_id)
    if room is None:
        return Audience.of_users(())
    try:
        return room.type.audience(room.object_id)
    except ImportError:
        return Audience.of_users(())
