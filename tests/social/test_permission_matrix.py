"""api.md's access rules for chat, activities, RSVPs and notifications, as a matrix over
real HTTP: every endpoint x method x actor x {private, public trip}."""

from __future__ import annotations

import httpx
import pytest

from tests.trips.world import Case, build_world, run_matrix

pytestmark = pytest.mark.django_db(transaction=True)


def test_chat_activities_rsvps_and_notifications_follow_the_access_rules(http: httpx.Client) -> None:
    world = build_world()
    cases = [
        Case("GET", lambda w, tw: f"/api/trips/{tw.trip.pk}/messages/", "read", (200,)),
        Case(
            "POST",
            lambda w, tw: f"/api/trips/{tw.trip.pk}/messages/",
            "participate",
            (201,),
            lambda w, tw: {"text": "hello"},
        ),
        Case("GET", lambda w, tw: f"/api/trips/{tw.trip.pk}/activities/", "read", (200,)),
        Case(
            "POST",
            lambda w, tw: f"/api/trips/{tw.trip.pk}/activities/",
            "participate",
            (201,),
            lambda w, tw: {"title": "Surf lesson", "startsAt": "2026-06-03T09:00:00Z"},
        ),
        Case("GET", lambda w, tw: f"/api/activities/{tw.activity_id}/", "read", (200,)),
        Case("GET", lambda w, tw: f"/api/activities/{tw.activity_id}/rsvp/", "read", (200,)),
        Case(
            "POST",
            lambda w, tw: f"/api/activities/{tw.activity_id}/rsvp/",
            "participate",
            (200, 201),
            lambda w, tw: {"status": "going"},
        ),
        Case("GET", lambda w, tw: "/api/notifications/", "signed_in", (200,)),
        Case("POST", lambda w, tw: "/api/notifications/read/", "signed_in", (200,), lambda w, tw: {}),
    ]
    assert run_matrix(http, world, cases) == []
