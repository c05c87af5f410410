"""What photos bring to the real-time layer, registered from PhotosConfig.ready():

- the `album_<id>` room: whoever may see the album joins it (`can_view_album`: whoever
  may see its trip), and an event of the album reaches the trip's audience;
- revocation: album rooms follow their trip's access, so a trip whose visibility
  changed, or that is deleted, has every album room checked again (a member removed from
  a trip has all their rooms checked by trips.realtime).
"""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete

from events import access
from events.audience import Audience
from events.rooms import RoomType, register_room_type
from photos.events import ALBUM
from photos.models import Album
from photos.permissions import can_view_album
from trips import signals as trip_signals
from trips.models import Trip
from trips.realtime import trip_audience


def can_join_album(user: Any, album_id: int) -> bool:
    album = Album.objects.select_related("trip").filter(pk=album_id).first()
    return album is not None and can_view_album(user, album)


def album_audience(album_id: int) -> Audience:
    trip_id = Album.objects.filter(pk=album_id).values_list("trip_id", flat=True).first()
    return Audience.of_users(()) if trip_id is None else trip_audience(trip_id)


def trip_changed(sender: type[Trip], trip_id: int, fields: Any, **kwargs: Any) -> None:
    if "visibility" in fields:
        access.revoke(room_types=[ALBUM])


def trip_deleted(sender: type[Trip], instance: Trip, **kwargs: Any) -> None:
    access.revoke(room_types=[ALBUM])


def connect() -> None:
    register_room_type(RoomType(ALBUM, can_join_album, album_audience))
    trip_signals.trip_changed.connect(trip_changed, sender=Trip, dispatch_uid="photos.realtime.trip_changed")
    post_delete.connect(trip_deleted, sender=Trip, dispatch_uid="photos.realtime.trip_deleted")
