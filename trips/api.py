"""Glue shared by the trip-scoped REST views (trips and the apps built on it)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rest_framework import exceptions, generics

from trava.api.errors import deny_unless
from trips.models import Trip
from trips.selectors import trip_get_visible


class TripScopedView(generics.GenericAPIView):
    """A view under `/api/trips/<trip_id>/`. Resolves the trip (404 when the user may not
    see it: no existence leak) and checks the action's predicate (403 otherwise)."""

    trip_not_found = "No such trip."

    def get_trip(self) -> Trip:
        if not hasattr(self, "_trip"):
            trip = trip_get_visible(user=self.request.user, trip_id=self.kwargs["trip_id"])
            if trip is None:
                raise exceptions.NotFound(self.trip_not_found)
            self._trip = trip
        return self._trip

    def require(self, predicate: Callable[[Any, Trip], bool], trip: Trip, message: str) -> None:
        deny_unless(predicate(self.request.user, trip), message)
