"""Model signals of photos.

File cleanup: a Photo's files are deleted once the deletion is committed, whether the
photo, its album or its trip was deleted (the collector sends post_delete for each photo
of a cascade). A rolled-back delete keeps them.

Events: each receiver below maps one model change to one call of photos.events (sent on
commit, to the album's and the trip's rooms). No business logic here. `photo_changed` is
sent by photos.services.photo_update, whose UPDATE fires no post_save.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import Signal, receiver

from photos import events
from photos.models import Album, Photo, PhotoComment, PhotoReaction
from trips.events import deleted_by_cascade
from trips.models import Trip

logger = logging.getLogger("trava.photos")

# sender=Photo, photo_id=int: a photo's caption was changed with an UPDATE.
photo_changed = Signal()


def _delete_files(names: list[str]) -> None:
    for name in names:
        try:
            default_storage.delete(name)
        except Exception:  # a missing or unreachable file must not fail the request
            logger.warning("could not delete photo file %s", name, exc_info=True)


@receiver(post_delete, sender=Photo, dispatch_uid="photos_delete_files")
def photo_files_delete_on_commit(sender: type[Photo], instance: Photo, using: str, **kwargs: Any) -> None:
    names = [name for name in (instance.image.name, instance.thumbnail.name) if name]
    transaction.on_commit(lambda: _delete_files(names), using=using)


# --- Events -------------------------------------------------------------------------------
@receiver(post_save, sender=Album, dispatch_uid="photos.events.album_saved")
def album_saved(
    sender: type[Album], instance: Album, created: bool, raw: bool = False, **kwargs: Any
) -> None:
    if not raw:
        events.album_saved(instance.pk, created=created)


@receiver(post_delete, sender=Album, dispatch_uid="photos.events.album_deleted")
def album_deleted(sender: type[Album], instance: Album, **kwargs: Any) -> None:
    if not deleted_by_cascade(kwargs.get("origin"), Trip):
        events.album_deleted(instance)


@receiver(post_save, sender=Photo, dispatch_uid="photos.events.photo_saved")
def photo_saved(
    sender: type[Photo], instance: Photo, created: bool, raw: bool = False, **kwargs: Any
) -> None:
    if raw:
        return
    if created:
        events.photo_uploaded(instance.pk, instance.album_id)
    else:  # an edit in the admin
        events.photo_updated(instance.pk)


@receiver(photo_changed, sender=Photo, dispatch_uid="photos.events.photo_changed")
def photo_changed_by_service(sender: type[Photo], photo_id: int, **kwargs: Any) -> None:
    events.photo_updated(photo_id)


@receiver(post_delete, sender=Photo, dispatch_uid="photos.events.photo_deleted")
def photo_deleted(sender: type[Photo], instance: Photo, **kwargs: Any) -> None:
    if not deleted_by_cascade(kwargs.get("origin"), Album, Trip):
        events.photo_deleted(instance.pk, instance.album_id)


@receiver(post_save, sender=PhotoComment, dispatch_uid="photos.events.photo_commented")
def photo_comment_saved(
    sender: type[PhotoComment], instance: PhotoComment, created: bool, raw: bool = False, **kwargs: Any
) -> None:
    if created and not raw:
        events.photo_commented(instance.pk)


@receiver(post_save, sender=PhotoReaction, dispatch_uid="photos.events.photo_liked")
def photo_reaction_saved(
    sender: type[PhotoReaction], instance: PhotoReaction, created: bool, raw: bool = False, **kwargs: Any
) -> None:
    if created and not raw:
        events.photo_liked(instance.pk)


@receiver(post_delete, sender=PhotoComment, dispatch_uid="photos.events.photo_comment_deleted")
def photo_comment_deleted(sender: type[PhotoComment], instance: PhotoComment, **kwargs: Any) -> None:
    if not deleted_by_cascade(kwargs.get("origin"), Photo, Album, Trip):
        events.photo_comment_deleted(instance)


@receiver(post_delete, sender=PhotoReaction, dispatch_uid="photos.events.photo_unliked")
def photo_reaction_deleted(sender: type[PhotoReaction], instance: PhotoReaction, **kwargs: Any) -> None:
    if not deleted_by_cascade(kwargs.get("origin"), Photo, Album, Trip):
        events.photo_unliked(instance)
