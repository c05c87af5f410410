"""Photo events (protocol.md section 6): each goes to its album's room and its trip's room
(whoever may see the trip may see its albums: the two rooms admit the same people).

    photo_uploaded   Photo representation            a photo was added
    photo_commented  PhotoComment representation     a comment was added
    photo_liked      PhotoReaction representation    a reaction was added
    album_updated    Album representation + `action` created | updated | deleted; also
                     after a photo is added or deleted (photoCount, cover changed)
    photo_updated    Photo representation            its caption (or, in the admin,
                                                     anything else) changed
    photo_deleted    {id, albumId, tripId}           a photo was deleted (then album_updated)
    photo_unliked    {id, photoId, albumId, tripId, userId, emoji}  a reaction was removed
    photo_comment_deleted {id, photoId, albumId, tripId}  a comment was deleted

Deleting an album or trip sends nothing for its cascaded photos, comments and reactions
(the album's own `deleted`, or the trip's `trip_deleted`, says it).
"""

from __future__ import annotations

from events.audience import Audience
from events.delivery import audience_of as room_audience
from events.rooms import room_id
from photos.models import Album, Photo, PhotoComment, PhotoReaction
from photos.serializers import (
    AlbumSerializer,
    PhotoCommentSerializer,
    PhotoReactionSerializer,
    PhotoSerializer,
)
from trips.events import CREATED, DELETED, UPDATED, Event, represent, send_on_commit, trip_room

PHOTO_UPLOADED = "photo_uploaded"
PHOTO_COMMENTED = "photo_commented"
PHOTO_LIKED = "photo_liked"
ALBUM_UPDATED = "album_updated"
PHOTO_UPDATED = "photo_updated"
PHOTO_DELETED = "photo_deleted"
PHOTO_UNLIKED = "photo_unliked"
PHOTO_COMMENT_DELETED = "photo_comment_deleted"


ALBUM = "album"  # the album's room type (photos.realtime registers it)


def album_room(album_id: int) -> str:
    return room_id(ALBUM, album_id)


def _rooms(album: Album) -> tuple[str, ...]:
    return (album_room(album.pk), trip_room(album.trip_id))


def _album_event(album: Album, action: str, audience: Audience | None = None) -> Event:
    payload = {**represent(AlbumSerializer, album), "action": action}
    return Event(ALBUM_UPDATED, _rooms(album), payload, audience)


def album_saved(album_id: int, *, created: bool) -> None:
    def build() -> list[Event]:
        album = Album.objects.select_related("created_by").filter(pk=album_id).first()
        return [] if album is None else [_album_event(album, CREATED if created else UPDATED)]

    send_on_commit((ALBUM_UPDATED, album_id), build)


def album_deleted(album: Album) -> None:
    # As it was (its photos are gone: photoCount 0), for whoever could see it then: after
    # the commit its room has no album to ask.
    event = _album_event(album, DELETED, room_audience(trip_room(album.trip_id)))
    send_on_commit((ALBUM_UPDATED, album.pk), lambda: [event], final=True)


def photo_uploaded(photo_id: int, album_id: int) -> None:
    def build() -> list[Event]:
        photo = Photo.objects.select_related("album", "uploaded_by").filter(pk=photo_id).first()
        if photo is None:
            return []
        return [Event(PHOTO_UPLOADED, _rooms(photo.album), represent(PhotoSerializer, photo))]

    send_on_commit((PHOTO_UPLOADED, photo_id), build)
    album_saved(album_id, created=False)


def photo_updated(photo_id: int) -> None:
    def build() -> list[Event]:
        photo = Photo.objects.select_related("album", "uploaded_by").filter(pk=photo_id).first()
        if photo is None:
            return []
        return [Event(PHOTO_UPDATED, _rooms(photo.album), represent(PhotoSerializer, photo))]

    send_on_commit((PHOTO_UPDATED, photo_id), build)


def _photo_place(photo_id: int) -> tuple[int, int] | None:
    """(albumId, tripId) of a photo that is still there (its child is being deleted)."""
    return Photo.objects.filter(pk=photo_id).values_list("album_id", "album__trip_id").first()


def photo_deleted(photo_id: int, album_id: int) -> None:
    trip_id = Album.objects.filter(pk=album_id).values_list("trip_id", flat=True).first()
    if trip_id is not None:
        payload = {"id": photo_id, "albumId": album_id, "tripId": trip_id}
        event = Event(PHOTO_DELETED, (album_room(album_id), trip_room(trip_id)), payload)
        send_on_commit((PHOTO_UPDATED, photo_id), lambda: [event], final=True)
    album_saved(album_id, created=False)


def photo_unliked(reaction: PhotoReaction) -> None:
    place = _photo_place(reaction.photo_id)
    if place is None:
        return
    album_id, trip_id = place
    payload = {
        "id": reaction.pk, "photoId": reaction.photo_id, "albumId": album_id, "tripId": trip_id,
        "userId": reaction.user_id, "emoji": reaction.emoji,
    }  # fmt: skip
    event = Event(PHOTO_UNLIKED, (album_room(album_id), trip_room(trip_id)), payload)
    send_on_commit((PHOTO_LIKED, reaction.pk), lambda: [event], final=True)


def photo_comment_deleted(comment: PhotoComment) -> None:
    place = _photo_place(comment.photo_id)
    if place is None:
        return
    album_id, trip_id = place
    payload = {"id": comment.pk, "photoId": comment.photo_id, "albumId": album_id, "tripId": trip_id}
    event = Event(PHOTO_COMMENT_DELETED, (album_room(album_id), trip_room(trip_id)), payload)
    send_on_commit((PHOTO_COMMENTED, comment.pk), lambda: [event], final=True)


def photo_commented(comment_id: int) -> None:
    def build() -> list[Event]:
        comment = PhotoComment.objects.select_related("author", "photo__album").filter(pk=comment_id).first()
        if comment is None:
            return []
        payload = represent(PhotoCommentSerializer, comment)
        return [Event(PHOTO_COMMENTED, _rooms(comment.photo.album), payload)]

    send_on_commit((PHOTO_COMMENTED, comment_id), build)


def photo_liked(reaction_id: int) -> None:
    def build() -> list[Event]:
        reaction = PhotoReaction.objects.select_related("user", "photo__album").filter(pk=reaction_id).first()
        if reaction is None:
            return []
        payload = represent(PhotoReactionSerializer, reaction)
        return [Event(PHOTO_LIKED, _rooms(reaction.photo.album), payload)]

    send_on_commit((PHOTO_LIKED, reaction_id), build)
