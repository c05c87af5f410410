"""What trips bring to the real-time layer, registered from TripsConfig.ready():

- the `trip_<id>` room: whoever may see the trip joins it (`can_view_trip`); an event of
  a public trip reaches everyone in the room, of a private trip its members at that moment;
- revocation: a member removed loses the trip's rooms (album and journal rooms follow
  trip access too: all of that user's rooms are checked again); a trip whose visibility
  changed, or that is deleted, has its room checked again, with every room of the types
  whose access follows the trip's (`follow_trip_access`: albums, journal entries).
"""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete

from events import access
from events.audience import EVERYONE, Audience
from events.rooms import RoomType, register_room_type
from trava.queries import first_or_none
from trips import signals as trip_signals
from trips.events import TRIP, trip_room
from trips.models import Trip, TripMember, Visibility
from trips.permissions import can_view_trip


def can_join_trip(user: Any, trip_id: int) -> bool:
    trip = Trip.objects.filter(pk=trip_id).first()
    return trip is not None and can_view_trip(user, trip)


def trip_audience(trip_id: int) -> Audience:
    """Who may see the trip now: everyone signed in (public) or its members."""
    visibility = first_or_none(Trip.objects.filter(pk=trip_id).values_list("visibility", flat=True))
    if visibility == Visibility.PUBLIC:
        return EVERYONE
    return Audience.of_column(TripMember, "user_id", where="trip_id", equals=trip_id)


# --- Revocation: which change takes access away ---------------------------------------------
def member_removed(sender: type[TripMember], instance: TripMember, **kwargs: Any) -> None:
    # Album and journal rooms follow trip access too: recheck all of that user's rooms.
    access.revoke(user_id=instance.user_id)


# Room types whose access follows their trip's (photos' albums, journals' entries): when
# the trip's access changes, their rooms are checked again with the trip's own room, in
# one cluster command.
_FOLLOWERS: list[str] = []


def follow_trip_access(room_type: str) -> None:
    """Called by an app whose room type's access follows the trip's (from its ready())."""
    if room_type not in _FOLLOWERS:
        _FOLLOWERS.append(room_type)


def trip_changed(sender: type[Trip], trip_id: int, fields: Any, **kwargs: Any) -> None:
    """The service (or the admin) tells which fields changed: no pre_save query."""
    if "visibility" in fields:
        access.revoke(rooms=[trip_room(trip_id)], room_types=list(_FOLLOWERS))


def trip_deleted(sender: type[Trip], instance: Trip, **kwargs: Any) -> None:
    access.revoke(rooms=[trip_room(instance.pk)], room_types=list(_FOLLOWERS))


def connect() -> None:
    register_room_type(RoomType(TRIP, can_join_trip, trip_audience))
    post_delete.connect(member_removed, sender=TripMember, dispatch_uid="trips.realtime.member_removed")
    trip_signals.trip_changed.connect(trip_changed, sender=Trip, dispatch_uid="trips.realtime.trip_changed")
    post_delete.connect(trip_deleted, sender=Trip, dispatch_uid="trips.realtime.trip_deleted")
