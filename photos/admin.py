from __future__ import annotations

from django.contrib import admin
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest
from django.urls import path, reverse
from django.utils.html import format_html

from photos.models import Album, Photo, PhotoComment, PhotoReaction


def _preview(photo: Photo | None, size: int) -> str:
    if photo is None or not photo.pk:
        return "-"
    url = reverse("admin:photos_photo_thumbnail", args=[photo.pk])
    return format_html('<img src="{}" style="max-width:{}px;max-height:{}px" alt="">', url, size, size)


@admin.register(Album)
class AlbumAdmin(admin.ModelAdmin):
    list_display = ("id", "title", "trip", "cover", "created_by", "created_at")
    search_fields = ("title", "trip__title")
    raw_id_fields = ("trip", "cover_photo", "created_by")
    readonly_fields = ("cover",)
    list_select_related = ("trip", "created_by", "cover_photo")

    @admin.display(description="cover")
    def cover(self, album: Album) -> str:
        return _preview(album.cover_photo, 80)


class PhotoCommentInline(admin.TabularInline):
    model = PhotoComment
    extra = 0
    raw_id_fields = ("author",)


@admin.register(Photo)
class PhotoAdmin(admin.ModelAdmin):
    list_display = ("id", "preview", "caption", "album", "uploaded_by", "width", "height", "taken_at")
    search_fields = ("caption", "album__title")
    raw_id_fields = ("album", "uploaded_by")
    readonly_fields = ("large_preview", "image", "thumbnail", "content_type", "width", "height")
    list_select_related = ("album", "uploaded_by")
    inlines = (PhotoCommentInline,)

    @admin.display(description="preview")
    def preview(self, photo: Photo) -> str:
        return _preview(photo, 60)

    @admin.display(description="preview")
    def large_preview(self, photo: Photo) -> str:
        return _preview(photo, 400)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # uploads go through photo_upload (decoding, stripping, thumbnail)

    def get_urls(self):  # type: ignore[no-untyped-def]
        own = [
            path(
                "<int:photo_id>/thumbnail/",
                self.admin_site.admin_view(self.thumbnail_view),
                name="photos_photo_thumbnail",
            )
        ]
        return own + super().get_urls()

    def thumbnail_view(self, request: HttpRequest, photo_id: int) -> FileResponse:
        """Staff see every thumbnail (the admin override), through the admin's own login."""
        photo = Photo.objects.filter(pk=photo_id).first()
        if photo is None or not self.has_view_permission(request, photo):
            raise Http404
        return FileResponse(default_storage.open(photo.thumbnail.name, "rb"), content_type="image/webp")


@admin.register(PhotoComment)
class PhotoCommentAdmin(admin.ModelAdmin):
    list_display = ("id", "photo_preview", "author", "text", "created_at")
    raw_id_fields = ("photo", "author")
    list_select_related = ("photo", "author")

    @admin.display(description="photo")
    def photo_preview(self, comment: PhotoComment) -> str:
        return _preview(comment.photo, 40)


@admin.register(PhotoReaction)
class PhotoReactionAdmin(admin.ModelAdmin):
    list_display = ("id", "photo_preview", "user", "emoji", "created_at")
    raw_id_fields = ("photo", "user")
    list_select_related = ("photo", "user")

    @admin.display(description="photo")
    def photo_preview(self, reaction: PhotoReaction) -> str:
        return _preview(reaction.photo, 40)
