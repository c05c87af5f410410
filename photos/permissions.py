"""Who may do what with albums and photos: access follows the album's trip.

Plain `(user, obj) -> bool` predicates, used by the REST views, the selectors' callers and
the WebSocket room registry (`album_<id>` rooms), so each rule is written once.
"""

from __future__ import annotations

from typing import Any

from photos.models import Album, Photo
from trips.permissions import can_edit_trip, can_participate_in_trip, can_view_trip


def can_view_album(user: Any, album: Album) -> bool:
    """Whoever may see the trip: its members, and anyone signed in if it is public."""
    return can_view_trip(user, album.trip)


def can_edit_album(user: Any, album: Album) -> bool:
    """Change or delete the album, upload, edit and delete its photos: editors and owners."""
    return can_edit_trip(user, album.trip_id)


def can_view_photo(user: Any, photo: Photo) -> bool:
    return can_view_album(user, photo.album)


def can_interact_with_photo(user: Any, photo: Photo) -> bool:
    """Comment and react: every member, viewers included; not visitors of a public trip."""
    return can_participate_in_trip(user, photo.album.trip_id)
