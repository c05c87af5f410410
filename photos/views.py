"""REST endpoints of albums and photos (api.md "Photos"): thin, the rules are elsewhere.

A trip (album, photo) the user may not see answers 404 exactly like a missing one; one
they may see but not change answers 403.
"""

from __future__ import annotations

from typing import Any

from djangorestframework_camel_case.parser import CamelCaseFormParser, CamelCaseMultiPartParser
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import NotAcceptable, NotFound
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.request import Request
from rest_framework.response import Response

from photos import selectors, services
from photos.authentication import QueryParamJWTAuthentication
from photos.files import file_response
from photos.models import Album, Photo
from photos.permissions import can_edit_album, can_interact_with_photo, can_view_album, can_view_photo
from photos.serializers import (
    AlbumCreateSerializer,
    AlbumSerializer,
    AlbumUpdateSerializer,
    CommentCreateSerializer,
    PhotoCommentSerializer,
    PhotoReactionSerializer,
    PhotoSerializer,
    PhotoUpdateSerializer,
    PhotoUploadSerializer,
    ReactionSerializer,
)
from photos.uploads import enforce_upload_limit
from trava.accounts.tokens import JWTAuthentication
from trava.api.errors import deny_unless, error_responses
from trips.api import TripScopedView
from trips.permissions import can_edit_trip


def _visible_album(user: Any, album_id: int) -> Album:
    album = Album.objects.select_related("trip", "created_by").filter(pk=album_id).first()
    if album is None or not can_view_album(user, album):
        raise NotFound("Album not found.")
    return album


def _visible_photo(user: Any, photo_id: int) -> Photo:
    photo = Photo.objects.select_related("album__trip", "uploaded_by").filter(pk=photo_id).first()
    if photo is None or not can_view_photo(user, photo):
        raise NotFound("Photo not found.")
    return photo


class TripAlbumsView(TripScopedView):
    """Albums of a trip: everyone who sees the trip reads them; editors create."""

    serializer_class = AlbumSerializer
    trip_not_found = "Trip not found."

    @extend_schema(responses={200: AlbumSerializer(many=True), **error_responses(401, 404)})
    def get(self, request: Request, trip_id: int) -> Response:
        trip = self.get_trip()
        page = self.paginate_queryset(selectors.albums_of_trip(trip))
        return self.get_paginated_response(AlbumSerializer(page, many=True).data)

    @extend_schema(
        request=AlbumCreateSerializer, responses={201: AlbumSerializer, **error_responses(400, 401, 403, 404)}
    )
    def post(self, request: Request, trip_id: int) -> Response:
        trip = self.get_trip()
        self.require(can_edit_trip, trip, "Only editors and owners create albums.")
        data = AlbumCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        album = services.album_create(trip=trip, user=request.user, **data.validated_data)
        return Response(AlbumSerializer(album).data, status=status.HTTP_201_CREATED)


class AlbumDetailView(generics.GenericAPIView):
    serializer_class = AlbumSerializer

    @extend_schema(responses={200: AlbumSerializer, **error_responses(401, 404)})
    def get(self, request: Request, album_id: int) -> Response:
        return Response(AlbumSerializer(_visible_album(request.user, album_id)).data)

    @extend_schema(
        request=AlbumUpdateSerializer, responses={200: AlbumSerializer, **error_responses(400, 401, 403, 404)}
    )
    def patch(self, request: Request, album_id: int) -> Response:
        album = _visible_album(request.user, album_id)
        deny_unless(can_edit_album(request.user, album), "Only editors and owners change albums.")
        data = AlbumUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        if "cover_photo" in fields:
            fields["cover_photo_id"] = fields.pop("cover_photo")
        album = services.album_update(album=album, **fields)
        return Response(AlbumSerializer(album).data)

    @extend_schema(responses={204: None, **error_responses(401, 403, 404)})
    def delete(self, request: Request, album_id: int) -> Response:
        album = _visible_album(request.user, album_id)
        deny_unless(can_edit_album(request.user, album), "Only editors and owners delete albums.")
        services.album_delete(album=album)
        return Response(status=status.HTTP_204_NO_CONTENT)


class AlbumPhotosView(generics.GenericAPIView):
    """Photos of an album; editors upload (multipart `image`, decoded and re-encoded)."""

    serializer_class = PhotoSerializer
    parser_classes = (CamelCaseMultiPartParser, CamelCaseFormParser)

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        if request.method == "POST":
            # Before authentication: nothing may read (and spool) the body of an oversized
            # upload; and the streaming check must be installed before parsing starts.
            enforce_upload_limit(request._request)
        super().initial(request, *args, **kwargs)

    @extend_schema(responses={200: PhotoSerializer(many=True), **error_responses(401, 404)})
    def get(self, request: Request, album_id: int) -> Response:
        album = _visible_album(request.user, album_id)
        page = self.paginate_queryset(selectors.photos_of_album(album))
        page = selectors.photo_attach_reaction_counts(page)
        return self.get_paginated_response(PhotoSerializer(page, many=True).data)

    @extend_schema(
        request={"multipart/form-data": PhotoUploadSerializer},
        responses={
            201: PhotoSerializer,
            **error_responses(
                400, 401, 403, 404, 413, described={413: "The file is over PHOTO_MAX_UPLOAD_BYTES."}
            ),
        },
    )
    def post(self, request: Request, album_id: int) -> Response:
        album = _visible_album(request.user, album_id)
        deny_unless(can_edit_album(request.user, album), "Only editors and owners upload photos.")
        data = PhotoUploadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        photo = services.photo_upload(
            album=album,
            user=request.user,
            file=data.validated_data["image"],
            caption=data.validated_data["caption"],
        )
        return Response(PhotoSerializer(photo).data, status=status.HTTP_201_CREATED)


class PhotoDetailView(generics.GenericAPIView):
    serializer_class = PhotoSerializer

    @extend_schema(responses={200: PhotoSerializer, **error_responses(401, 404)})
    def get(self, request: Request, photo_id: int) -> Response:
        return Response(PhotoSerializer(_visible_photo(request.user, photo_id)).data)

    @extend_schema(
        request=PhotoUpdateSerializer, responses={200: PhotoSerializer, **error_responses(400, 401, 403, 404)}
    )
    def patch(self, request: Request, photo_id: int) -> Response:
        photo = _visible_photo(request.user, photo_id)
        deny_unless(can_edit_album(request.user, photo.album), "Only editors and owners change photos.")
        data = PhotoUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        photo = services.photo_update(photo=photo, caption=data.validated_data["caption"])
        return Response(PhotoSerializer(photo).data)

    @extend_schema(responses={204: None, **error_responses(401, 403, 404)})
    def delete(self, request: Request, photo_id: int) -> Response:
        photo = _visible_photo(request.user, photo_id)
        deny_unless(can_edit_album(request.user, photo.album), "Only editors and owners delete photos.")
        services.photo_delete(photo=photo)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PhotoCommentsView(generics.GenericAPIView):
    """Comments on a photo: readable by whoever sees it; members write."""

    serializer_class = PhotoCommentSerializer

    @extend_schema(responses={200: PhotoCommentSerializer(many=True), **error_responses(401, 404)})
    def get(self, request: Request, photo_id: int) -> Response:
        photo = _visible_photo(request.user, photo_id)
        page = self.paginate_queryset(selectors.photo_comments(photo))
        return self.get_paginated_response(PhotoCommentSerializer(page, many=True).data)

    @extend_schema(
        request=CommentCreateSerializer,
        responses={201: PhotoCommentSerializer, **error_responses(400, 401, 403, 404)},
    )
    def post(self, request: Request, photo_id: int) -> Response:
        photo = _visible_photo(request.user, photo_id)
        deny_unless(can_interact_with_photo(request.user, photo), "Only trip members comment.")
        data = CommentCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        comment = services.photo_comment_add(photo=photo, user=request.user, text=data.validated_data["text"])
        return Response(PhotoCommentSerializer(comment).data, status=status.HTTP_201_CREATED)


class PhotoReactionsView(generics.GenericAPIView):
    """Reactions: one per user, photo and emoji. POST is idempotent (201 new, 200 existing)."""

    serializer_class = PhotoReactionSerializer

    @extend_schema(responses={200: PhotoReactionSerializer(many=True), **error_responses(401, 404)})
    def get(self, request: Request, photo_id: int) -> Response:
        photo = _visible_photo(request.user, photo_id)
        page = self.paginate_queryset(selectors.photo_reactions(photo))
        return self.get_paginated_response(PhotoReactionSerializer(page, many=True).data)

    @extend_schema(
        request=ReactionSerializer,
        responses={
            201: PhotoReactionSerializer,
            200: PhotoReactionSerializer,
            **error_responses(400, 401, 403, 404),
        },
    )
    def post(self, request: Request, photo_id: int) -> Response:
        photo = _visible_photo(request.user, photo_id)
        deny_unless(can_interact_with_photo(request.user, photo), "Only trip members react.")
        data = ReactionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        reaction, created = services.photo_reaction_add(
            photo=photo, user=request.user, emoji=data.validated_data["emoji"]
        )
        return Response(
            PhotoReactionSerializer(reaction).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    @extend_schema(
        parameters=[OpenApiParameter("emoji", str, required=True, description="The reaction to take back.")],
        request=None,
        responses={204: None, **error_responses(400, 401, 403, 404)},
    )
    def delete(self, request: Request, photo_id: int) -> Response:
        photo = _visible_photo(request.user, photo_id)
        deny_unless(can_interact_with_photo(request.user, photo), "Only trip members react.")
        data = ReactionSerializer(data={"emoji": request.query_params.get("emoji", "")})
        data.is_valid(raise_exception=True)
        services.photo_reaction_remove(photo=photo, user=request.user, emoji=data.validated_data["emoji"])
        return Response(status=status.HTTP_204_NO_CONTENT)


class _AnyAcceptNegotiation(DefaultContentNegotiation):
    """File views answer bytes whatever `Accept` says (an <img> asks for image/*)."""

    def select_renderer(self, request, renderers, format_suffix=None):  # type: ignore[no-untyped-def]
        try:
            return super().select_renderer(request, renderers, format_suffix)
        except NotAcceptable:
            return renderers[0], renderers[0].media_type


class _PhotoFileView(generics.GenericAPIView):
    authentication_classes = (JWTAuthentication, SessionAuthentication, QueryParamJWTAuthentication)
    content_negotiation_class = _AnyAcceptNegotiation
    serializer_class = None
    thumbnail = False

    @extend_schema(
        responses={
            (200, "image/*"): OpenApiResponse(OpenApiTypes.BINARY, description="The image bytes."),
            **error_responses(401, 404),
        }
    )
    def get(self, request: Request, photo_id: int) -> Any:
        photo = _visible_photo(request.user, photo_id)
        if self.thumbnail:
            return file_response(photo.thumbnail.name, "image/webp")
        return file_response(photo.image.name, photo.content_type)


class PhotoImageView(_PhotoFileView):
    """The photo, upright and without metadata (EXIF/GPS stripped at upload)."""


class PhotoThumbnailView(_PhotoFileView):
    """The thumbnail (WebP, longest side PHOTO_THUMBNAIL_SIZE)."""

    thumbnail = True
