"""Querysets already filtered to what a user may see, with the counts lists need."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from photos.models import Album, Photo, PhotoComment, PhotoReaction
from trips.models import Trip


def _count_of(model: type, field: str = "photo") -> Coalesce:
    counts = (
        model.objects.filter(**{field: OuterRef("pk")})
        .order_by()
        .values(field)
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counts, output_field=IntegerField()), Value(0))


def albums_of_trip(trip: Trip) -> QuerySet[Album]:
    return (
        Album.objects.filter(trip=trip)
        .select_related("trip", "created_by")
        .annotate(photo_count=_count_of(Photo, "album"))
    )


def photos_of_album(album: Album) -> QuerySet[Photo]:
    return (
        Photo.objects.filter(album=album)
        .select_related("album", "uploaded_by")
        .annotate(comment_count=_count_of(PhotoComment))
    )


def photo_attach_reaction_counts(photos: Iterable[Photo]) -> list[Photo]:
    """One query for the reaction counts of a page of photos (the serializer reads them)."""
    photos = list(photos)
    by_photo: dict[int, list[dict[str, Any]]] = defaultdict(list)
    rows = (
        PhotoReaction.objects.filter(photo__in=[p.pk for p in photos])
        .values("photo_id", "emoji")
        .annotate(count=Count("pk"))
        .order_by("photo_id", "-count", "emoji")
    )
    for row in rows:
        by_photo[row["photo_id"]].append({"emoji": row["emoji"], "count": row["count"]})
    for photo in photos:
        photo.reaction_counts = by_photo.get(photo.pk, [])
    return photos


def photo_comments(photo: Photo) -> QuerySet[PhotoComment]:
    return PhotoComment.objects.filter(photo=photo).select_related("author")


def photo_reactions(photo: Photo) -> QuerySet[PhotoReaction]:
    return PhotoReaction.objects.filter(photo=photo).select_related("user")
