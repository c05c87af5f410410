"""Albums of a trip, their photos, and what people say about them.

Files live in the default storage under random names; clients never see a storage URL,
only the access-checked `/api/photos/<id>/image/` and `/thumbnail/` (see views.files).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from trips.models import Trip


class Album(models.Model):
    trip = models.ForeignKey(Trip, on_delete=models.CASCADE, related_name="albums")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True, default="", max_length=5000)
    cover_photo = models.ForeignKey(
        "Photo", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("-created_at", "-id")

    def __str__(self) -> str:
        return self.title


def _file_name(prefix: str, extension: str) -> str:
    # Random, so a name says nothing and collides with nothing; access is checked anyway.
    return f"photos/{prefix}/{uuid.uuid4().hex}.{extension}"


class Photo(models.Model):
    album = models.ForeignKey(Album, on_delete=models.CASCADE, related_name="photos")
    image = models.FileField(max_length=255)
    thumbnail = models.FileField(max_length=255)
    content_type = models.CharField(max_length=40)  # of `image`, from the decoded format
    caption = models.CharField(max_length=2000, blank=True, default="")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    taken_at = models.DateTimeField(null=True, blank=True)  # EXIF DateTimeOriginal
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("-created_at", "-id")

    def __str__(self) -> str:
        return self.caption or f"photo {self.pk}"

    @staticmethod
    def new_file_names(extension: str, thumbnail_extension: str) -> tuple[str, str]:
        return _file_name("original", extension), _file_name("thumbnail", thumbnail_extension)


class PhotoComment(models.Model):
    photo = models.ForeignKey(Photo, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    text = models.TextField(max_length=2000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("created_at", "id")

    def __str__(self) -> str:
        return self.text[:50]


class PhotoReaction(models.Model):
    photo = models.ForeignKey(Photo, on_delete=models.CASCADE, related_name="reactions")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    emoji = models.CharField(max_length=32)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("created_at", "id")
        constraints = [
            # The race between two identical POSTs is settled here, not in Python.
            models.UniqueConstraint(fields=("photo", "user", "emoji"), name="photo_reaction_unique"),
            models.CheckConstraint(condition=~Q(emoji=""), name="photo_reaction_emoji_not_empty"),
        ]

    def __str__(self) -> str:
        return f"{self.emoji} by {self.user_id} on {self.photo_id}"
