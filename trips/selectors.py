"""Querysets already filtered to what a user may see."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from trips.models import Trip, Visibility


def trips_visible_to(user: Any, *, include_public: bool = True) -> QuerySet[Trip]:
    """Trips the user is a member of, plus (by default) every public trip."""
    if user is None or not getattr(user, "is_authenticated", False):
        return Trip.objects.none()
    condition = Q(members__user_id=user.pk)
    if include_public:
        condition |= Q(visibility=Visibility.PUBLIC)
    return Trip.objects.filter(pk__in=Trip.objects.filter(condition).values("pk"))
