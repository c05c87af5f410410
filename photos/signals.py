"""Model signals of photos.

File cleanup: a Photo's files are deleted once the deletion is committed, whether the
photo, its album or its trip was deleted (the collector sends post_delete for each photo
of a cascade). A rolled-back delete keeps them.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver

from photos.models import Photo

logger = logging.getLogger("trava.photos")


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
