"""The room types of protocol.md section 3: how an id parses, who may join, its group.

Adding a room type is one `RoomType(...)` line in ROOM_TYPES plus a `can_join` function.
Apps are imported lazily inside the predicates (photos and journals may not be installed
yet, and realtime reaches the apps only through their permission predicates). Every
`can_join` runs in a worker thread (ORM), through `check_access`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from channels.db import database_sync_to_async

ROOM_ID = re.compile(r"^([a-z]+)_([1-9][0-9]{0,17})$")


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


@dataclass(frozen=True)
class RoomType:
    name: str
    can_join: Callable[[Any, int], bool]
    # Staff may join any room of this type (protocol.md: admin override).
    staff_override: bool = True


ROOM_TYPES: dict[str, RoomType] = {
    room.name: room
    for room in (
        RoomType("trip", _can_join_trip),
        RoomType("album", _can_join_album),
        RoomType("journal", _can_join_journal),
        RoomType("user", _can_join_user),
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
    match = ROOM_ID.match(value)
    if match is None or match.group(1) not in ROOM_TYPES:
        return None
    return RoomId(ROOM_TYPES[match.group(1)], int(match.group(2)), value)


def group_name(room_id: str) -> str:
    return f"room.{room_id}"


def user_room(user_id: int) -> str:
    return f"user_{user_id}"


def can_join_sync(user: Any, room: RoomId) -> bool:
    """Missing and forbidden are the same False (no existence leak)."""
    if not user.is_active:
        return False
    if user.is_staff and room.type.staff_override:
        return True
    try:
        return bool(room.type.can_join(user, room.object_id))
    except ImportError:  # the app of this room type is not installed (yet)
        return False


check_access = database_sync_to_async(can_join_sync)
