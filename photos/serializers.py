"""Output serializers are request-independent: `PhotoSerializer(photo).data` is both the
REST representation and a WebSocket event payload (protocol.md section 6)."""

from __future__ import annotations

import unicodedata
from typing import Any

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from photos.models import Album, Photo, PhotoComment, PhotoReaction
from photos.selectors import photo_attach_reaction_counts
from trava.accounts.serializers import UserSerializer


def photo_image_path(photo_id: int) -> str:
    return reverse("photos:photo-image", args=[photo_id])


def photo_thumbnail_path(photo_id: int) -> str:
    return reverse("photos:photo-thumbnail", args=[photo_id])


class ReactionCountSerializer(serializers.Serializer):
    emoji = serializers.CharField()
    count = serializers.IntegerField()


class PhotoSerializer(serializers.ModelSerializer):
    trip = serializers.SerializerMethodField()
    image_url = serializers.SerializerMethodField(
        help_text="Access-checked path; send the JWT as a Bearer header, a session, or ?access_token=."
    )
    thumbnail_url = serializers.SerializerMethodField()
    uploaded_by = UserSerializer(read_only=True, allow_null=True)
    comment_count = serializers.SerializerMethodField()
    reactions = serializers.SerializerMethodField(help_text="Reaction counts per emoji, most used first.")

    class Meta:
        model = Photo
        fields = (
            "id",
            "album",
            "trip",
            "image_url",
            "thumbnail_url",
            "content_type",
            "width",
            "height",
            "caption",
            "taken_at",
            "uploaded_by",
            "comment_count",
            "reactions",
            "created_at",
            "updated_at",
        )
        read_only_fields = fields

    def get_trip(self, photo: Photo) -> int:
        return photo.album.trip_id

    def get_image_url(self, photo: Photo) -> str:
        return photo_image_path(photo.pk)

    def get_thumbnail_url(self, photo: Photo) -> str:
        return photo_thumbnail_path(photo.pk)

    def get_comment_count(self, photo: Photo) -> int:
        count = getattr(photo, "comment_count", None)
        return photo.comments.count() if count is None else count

    @extend_schema_field(ReactionCountSerializer(many=True))
    def get_reactions(self, photo: Photo) -> list[dict[str, Any]]:
        counts = getattr(photo, "reaction_counts", None)
        if counts is None:
            counts = photo_attach_reaction_counts([photo])[0].reaction_counts
        return counts


class AlbumSerializer(serializers.ModelSerializer):
    created_by = UserSerializer(read_only=True, allow_null=True)
    cover_thumbnail_url = serializers.SerializerMethodField()
    photo_count = serializers.SerializerMethodField()

    class Meta:
        model = Album
        fields = (
            "id",
            "trip",
            "title",
            "description",
            "cover_photo",
            "cover_thumbnail_url",
            "photo_count",
            "created_by",
            "created_at",
            "updated_at",
        )
        read_only_fields = fields

    def get_cover_thumbnail_url(self, album: Album) -> str | None:
        return photo_thumbnail_path(album.cover_photo_id) if album.cover_photo_id else None

    def get_photo_count(self, album: Album) -> int:
        count = getattr(album, "photo_count", None)
        return album.photos.count() if count is None else count


class PhotoCommentSerializer(serializers.ModelSerializer):
    author = UserSerializer(read_only=True, allow_null=True)

    class Meta:
        model = PhotoComment
        fields = ("id", "photo", "author", "text", "created_at")
        read_only_fields = fields


class PhotoReactionSerializer(serializers.ModelSerializer):
    user = UserSerializer(read_only=True)

    class Meta:
        model = PhotoReaction
        fields = ("id", "photo", "user", "emoji", "created_at")
        read_only_fields = fields


# --- Input ----------------------------------------------------------------------------
class AlbumCreateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")


class AlbumUpdateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    cover_photo = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=2**63 - 1,
        help_text="A photo of this album, or null.",
    )


class PhotoUploadSerializer(serializers.Serializer):
    image = serializers.FileField(help_text="JPEG, PNG, WebP or GIF; checked by decoding it.")
    caption = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class PhotoUpdateSerializer(serializers.Serializer):
    caption = serializers.CharField(max_length=2000, allow_blank=True)


class CommentCreateSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=2000)


class ReactionSerializer(serializers.Serializer):
    emoji = serializers.CharField(max_length=32)

    def validate_emoji(self, value: str) -> str:
        if any(ch.isspace() or (unicodedata.category(ch).startswith("C") and ch != "\u200d") for ch in value):
            raise serializers.ValidationError("An emoji has no spaces or control characters.")
        return value
