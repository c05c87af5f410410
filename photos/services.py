"""Every change to albums and photos goes through here (keyword-only, typed, atomic).

Permission checks happen in the views with the predicates of photos.permissions; the
services enforce what must hold whoever calls them (the cover belongs to the album, a
reaction is unique per user and emoji).
"""

from __future__ import annotations

import logging
from typing import IO, Any

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction

from photos.images import process_image
from photos.models import Album, Photo, PhotoComment, PhotoReaction
from photos.signals import photo_changed
from trava.api.errors import DomainError
from trips.models import Trip

logger = logging.getLogger("trava.photos")

_UNSET: Any = object()


@transaction.atomic
def album_create(*, trip: Trip, user: Any, title: str, description: str = "") -> Album:
    return Album.objects.create(trip=trip, title=title, description=description, created_by=user)


@transaction.atomic
def album_update(
    *, album: Album, title: str | None = None, description: str | None = None, cover_photo_id: Any = _UNSET
) -> Album:
    album = Album.objects.select_for_update().get(pk=album.pk)
    if title is not None:
        album.title = title
    if description is not None:
        album.description = description
    if cover_photo_id is not _UNSET:
        if cover_photo_id is not None and not Photo.objects.filter(pk=cover_photo_id, album=album).exists():
            raise DomainError("Not a photo of this album.", field="cover_photo")
        album.cover_photo_id = cover_photo_id
    album.save()
    return album


@transaction.atomic
def album_delete(*, album: Album) -> None:
    album.delete()  # the photos' files go after commit (photos.signals)


def photo_upload(*, album: Album, user: Any, file: IO[bytes], caption: str = "") -> Photo:
    """Decode and re-encode `file`; store it and its thumbnail; create the Photo.

    Raises photos.images.InvalidImage for anything that is not an acceptable image, before
    anything is stored. If the row cannot be created, the stored files are removed again.
    """
    processed = process_image(file)  # CPU work outside the transaction
    image_name, thumbnail_name = Photo.new_file_names(processed.extension, processed.thumbnail_extension)
    stored: list[str] = []
    try:
        stored.append(default_storage.save(image_name, ContentFile(processed.content)))
        stored.append(default_storage.save(thumbnail_name, ContentFile(processed.thumbnail)))
        with transaction.atomic():
            photo = Photo.objects.create(
                album=album,
                image=stored[0],
                thumbnail=stored[1],
                content_type=processed.content_type,
                caption=caption,
                uploaded_by=user,
                width=processed.width,
                height=processed.height,
                taken_at=processed.taken_at,
            )
    except BaseException:
        for name in stored:
            default_storage.delete(name)
        raise
    return photo


@transaction.atomic
def photo_update(*, photo: Photo, caption: str) -> Photo:
    Photo.objects.filter(pk=photo.pk).update(caption=caption)
    photo_changed.send(sender=Photo, photo_id=photo.pk)
    photo.refresh_from_db()
    return photo


@transaction.atomic
def photo_delete(*, photo: Photo) -> None:
    photo.delete()  # files removed after commit by photos.signals


@transaction.atomic
def photo_comment_add(*, photo: Photo, user: Any, text: str) -> PhotoComment:
    return PhotoComment.objects.create(photo=photo, author=user, text=text)


def photo_reaction_add(*, photo: Photo, user: Any, emoji: str) -> tuple[PhotoReaction, bool]:
    """(reaction, created). Idempotent: a second identical reaction returns the first.

    Two concurrent identical POSTs both miss the `get`; the unique constraint lets one
    insert win and the other falls back to reading the winner's row.
    """
    existing = PhotoReaction.objects.filter(photo=photo, user=user, emoji=emoji).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            return PhotoReaction.objects.create(photo=photo, user=user, emoji=emoji), True
    except IntegrityError:
        return PhotoReaction.objects.get(photo=photo, user=user, emoji=emoji), False


@transaction.atomic
def photo_reaction_remove(*, photo: Photo, user: Any, emoji: str) -> bool:
    deleted, _ = PhotoReaction.objects.filter(photo=photo, user=user, emoji=emoji).delete()
    return deleted > 0
