"""List endpoints run the same number of queries for 1 row as for 50."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import UserFactory
from tests.social.factories import ActivityFactory, ChatMessageFactory, NotificationFactory, RsvpFactory
from tests.trips.factories import ExpenseFactory, ItineraryItemFactory, TripFactory, TripMemberFactory
from trips.models import Role

pytestmark = pytest.mark.django_db


def count_queries(client, url: str) -> int:  # type: ignore[no-untyped-def]
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(ctx.captured_queries)


@pytest.mark.parametrize(
    "resource",
    [
        "trips",
        "members",
        "itinerary",
        "expenses",
        "budget",
        "messages",
        "activities",
        "rsvps",
        "notifications",
    ],
)
def test_list_endpoints_run_a_bounded_number_of_queries(
    resource: str, auth_api: Callable, django_assert_num_queries: Callable
) -> None:
    owner = UserFactory()
    trip = TripFactory(created_by=owner)
    activity = ActivityFactory(trip=trip)

    def add(n: int) -> None:
        for _ in range(n):
            if resource == "trips":
                TripFactory(created_by=owner)
            elif resource == "members":
                TripMemberFactory(trip=trip, role=Role.EDITOR)
            elif resource == "itinerary":
                ItineraryItemFactory(trip=trip, created_by=UserFactory())
            elif resource == "expenses":
                ExpenseFactory(trip=trip, paid_by=TripMemberFactory(trip=trip).user)
            elif resource == "budget":
                ExpenseFactory(trip=trip, paid_by=TripMemberFactory(trip=trip).user, category="food")
            elif resource == "messages":
                ChatMessageFactory(trip=trip, author=TripMemberFactory(trip=trip).user)
            elif resource == "activities":
                RsvpFactory(activity=ActivityFactory(trip=trip, created_by=UserFactory()))
            elif resource == "rsvps":
                RsvpFactory(activity=activity)
            elif resource == "notifications":
                NotificationFactory(recipient=owner)

    url = {
        "trips": "/api/trips/",
        "members": f"/api/trips/{trip.pk}/members/",
        "itinerary": f"/api/trips/{trip.pk}/itinerary/",
        "expenses": f"/api/trips/{trip.pk}/expenses/",
        "budget": f"/api/trips/{trip.pk}/budget/",
        "messages": f"/api/trips/{trip.pk}/messages/",
        "activities": f"/api/trips/{trip.pk}/activities/",
        "rsvps": f"/api/activities/{activity.pk}/rsvp/",
        "notifications": "/api/notifications/",
    }[resource]
    client = auth_api(owner)
    add(1)
    with CaptureQueriesContext(connection) as one:
        first = client.get(url)
    assert first.status_code == 200
    add(49)
    with django_assert_num_queries(len(one.captured_queries)):
        response = client.get(url)
    assert response.status_code == 200
    body = response.json()
    rows = body["byMember"] if resource == "budget" else body["results"]
    assert len(rows) >= 50 if resource != "budget" else len(rows) == 51
