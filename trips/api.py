"""Glue shared by the trip-scoped REST views (trips and the apps built on it)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions, generics, serializers

from trips.models import Trip
from trips.selectors import trip_get_visible


@contextmanager
def service_errors() -> Iterator[None]:
    """A service's Django ValidationError becomes the API's 400 with `fields`."""
    try:
        yield
    except DjangoValidationError as exc:
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        raise exceptions.ValidationError(detail) from exc


class TripScopedView(generics.GenericAPIView):
    """A view under `/api/trips/<trip_id>/`. Resolves the trip (404 when the user may not
    see it: no existence leak) and checks the action's predicate (403 otherwise)."""

    def get_trip(self) -> Trip:
        if not hasattr(self, "_trip"):
            trip = trip_get_visible(user=self.request.user, trip_id=self.kwargs["trip_id"])
            if trip is None:
                raise exceptions.NotFound("No such trip.")
            self._trip = trip
        return self._trip

    def require(self, predicate: Callable[[Any, Trip], bool], trip: Trip, message: str) -> None:
        if not predicate(self.request.user, trip):
            raise exceptions.PermissionDenied(message)


class ApiErrorSerializer(serializers.Serializer):
    """The one error shape of the API (trava/api/errors.py)."""

    code = serializers.CharField(help_text="Stable, machine-readable: validation_error, not_found, ...")
    message = serializers.CharField()
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="Validation errors only: camelCase field name to its messages.",
    )


_ERROR_TEXT = {
    400: "Invalid input; `fields` names each offending field.",
    401: "Not signed in.",
    403: "Visible, but the user's role does not allow this.",
    404: "Missing, or a private trip the user is not a member of.",
}


def errors(*codes: int) -> dict[int, OpenApiResponse]:
    """Schema entries for the error answers of an endpoint."""
    return {code: OpenApiResponse(ApiErrorSerializer, description=_ERROR_TEXT[code]) for code in codes}
