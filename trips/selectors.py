"""Querysets already filtered to what a user may see."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from trips.models import Expense, ItineraryItem, Trip, TripMember, Visibility
from trips.permissions import can_view_trip


def trips_visible_to(user: Any, *, include_public: bool = True) -> QuerySet[Trip]:
    """Trips the user is a member of, plus (by default) every public trip."""
    if user is None or not getattr(user, "is_authenticated", False):
        return Trip.objects.none()
    condition = Q(members__user_id=user.pk)
    if include_public:
        condition |= Q(visibility=Visibility.PUBLIC)
    return Trip.objects.filter(pk__in=Trip.objects.filter(condition).values("pk"))


def trip_list(*, user: Any, include_public: bool = False) -> QuerySet[Trip]:
    """`GET /api/trips/`: my trips, plus public ones on request, ready to serialize."""
    return trips_visible_to(user, include_public=include_public).select_related("created_by")


def trip_get_visible(*, user: Any, trip_id: int) -> Trip | None:
    """The trip if the user may see it; None both when it does not exist and when it is
    private to others (callers answer 404 either way: no existence leak)."""
    trip = Trip.objects.select_related("created_by").filter(pk=trip_id).first()
    if trip is None or not can_view_trip(user, trip):
        return None
    return trip


def trip_member_list(*, trip: Trip) -> QuerySet[TripMember]:
    return TripMember.objects.filter(trip=trip).select_related("user")


def itinerary_item_list(*, trip: Trip) -> QuerySet[ItineraryItem]:
    return ItineraryItem.objects.filter(trip=trip).select_related("created_by").order_by("position", "id")


def expense_list(*, trip: Trip) -> QuerySet[Expense]:
    return (
        Expense.objects.filter(trip=trip)
        .select_related("trip", "paid_by", "created_by")
        .prefetch_related("shares")
        .order_by("-spent_on", "-id")
    )
