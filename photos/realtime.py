"""What photos bring to the real-time layer, registered from PhotosConfig.ready():

- the `album_<id>` room: whoever may see the album joins it (`can_view_album`: whoever
  may see its trip), and an event of the album reaches the trip's audience;
- revocation: album rooms follow their trip's access (`follow_trip_access`: checked
  again when a trip's visibility changes or it is deleted; a member removed from a trip
  has all their rooms checked by trips.realtime).
"""

from __future__ import annotations

from typing import Any

from events.audience import Audience
from events.rooms import RoomType, register_room_type
from photos.events import ALBUM
from photos.models import Album
from photos.permissions import can_view_album
from trips.realtime import follow_trip_access, trip_audience


def can_join_album(user: Any, album_id: int) -> bool:
    album = Album.objects.select_related("trip").filter(pk=album_id).first()
    return album is not None and can_view_album(user, album)


def album_audience(album_id: int) -> Audience:
    trip_id = Album.objects.filter(pk=album_id).values_list("trip_id", flat=True).first()
    return Audience.of_users(()) if trip_id is None else trip_audience(trip_id)


def connect() -> None:
    register_room_type(RoomType(ALBUM, can_join_album, album_audience))
    follow_trip_access(ALBUM)
