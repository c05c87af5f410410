"""Notifications: who gets one and when, unread first, marking read."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from social.models import Notification, NotificationKind
from social.services import activity_create, rsvp_set
from tests.factories import UserFactory
from tests.social.factories import ActivityFactory, NotificationFactory
from tests.trips.factories import TripFactory, TripMemberFactory
from trips.services import trip_create, trip_member_add, trip_member_update_role

pytestmark = pytest.mark.django_db


def kinds(user) -> list[str]:  # type: ignore[no-untyped-def]
    return list(Notification.objects.filter(recipient=user).order_by("id").values_list("kind", flat=True))


def test_being_added_and_a_role_change_notify_the_member_but_not_the_creator() -> None:
    alice, bob = UserFactory(), UserFactory()
    trip = trip_create(
        user=alice, title="Rome", destination="Rome", start_date="2026-05-01", end_date="2026-05-03"
    )
    assert kinds(alice) == []
    member = trip_member_add(trip=trip, user=bob, role="viewer")
    trip_member_update_role(member=member, role="viewer")  # no change, no news
    trip_member_update_role(member=member, role="editor")
    assert kinds(bob) == [NotificationKind.TRIP_MEMBER_ADDED, NotificationKind.TRIP_ROLE_CHANGED]
    changed = Notification.objects.get(recipient=bob, kind=NotificationKind.TRIP_ROLE_CHANGED)
    assert changed.data == {"trip_id": trip.pk, "role": "editor", "previous_role": "viewer"}


def test_activity_and_rsvp_notify_the_others() -> None:
    alice, bob, carol = UserFactory(), UserFactory(), UserFactory()
    trip = TripFactory(created_by=alice)
    TripMemberFactory(trip=trip, user=bob)
    TripMemberFactory(trip=trip, user=carol)
    Notification.objects.all().delete()
    activity = activity_create(trip=trip, user=bob, title="Kayak", starts_at="2026-06-02T09:00:00Z")
    assert kinds(alice) == kinds(carol) == [NotificationKind.ACTIVITY_CREATED]
    assert kinds(bob) == []
    rsvp_set(activity=activity, user=carol, status="going")
    rsvp_set(activity=activity, user=carol, status="going")  # unchanged: no second notice
    rsvp_set(activity=activity, user=bob, status="maybe")  # the creator's own answer
    assert kinds(bob) == [NotificationKind.RSVP]
    assert Notification.objects.get(recipient=bob).data["status"] == "going"


def test_rsvp_over_http_creates_then_updates(auth_api: Callable) -> None:
    alice, bob = UserFactory(), UserFactory()
    trip = TripFactory(created_by=alice)
    TripMemberFactory(trip=trip, user=bob)
    activity = ActivityFactory(trip=trip)
    url = f"/api/activities/{activity.pk}/rsvp/"
    first = auth_api(bob).post(url, {"status": "maybe"}, format="json")
    assert first.status_code == 201 and first.json()["status"] == "maybe"
    second = auth_api(bob).post(url, {"status": "declined"}, format="json")
    assert second.status_code == 200 and second.json()["status"] == "declined"
    assert auth_api(bob).post(url, {"status": "perhaps"}, format="json").json()["fields"].keys() == {"status"}
    detail = auth_api(alice).get(f"/api/activities/{activity.pk}/").json()
    assert [(r["user"]["id"], r["status"]) for r in detail["rsvps"]] == [(bob.pk, "declined")]


def test_inbox_is_unread_first_then_newest_and_pages_by_cursor(auth_api: Callable) -> None:
    alice, bob = UserFactory(), UserFactory()
    made = [NotificationFactory(recipient=alice) for _ in range(6)]
    NotificationFactory(recipient=bob)
    client = auth_api(alice)
    marked = client.post(
        "/api/notifications/read/", {"ids": [made[1].pk, made[4].pk, 999_999]}, format="json"
    )
    assert marked.json() == {"marked": 2}
    expected = [made[i].pk for i in (5, 3, 2, 0, 4, 1)]
    page = client.get("/api/notifications/?pageSize=4").json()
    seen = [n["id"] for n in page["results"]]
    assert [n["read"] for n in page["results"]] == [False, False, False, False]
    page = client.get(page["next"]).json()
    seen += [n["id"] for n in page["results"]]
    assert page["next"] is None
    assert seen == expected
    assert client.get("/api/notifications/?cursor=garbage").status_code == 400
    # Someone else's id is never marked; `{}` marks all of mine.
    assert client.post("/api/notifications/read/", {"ids": [made[0].pk]}, format="json").json() == {
        "marked": 1
    }
    assert auth_api(bob).post("/api/notifications/read/", {"ids": [made[2].pk]}, format="json").json() == {
        "marked": 0
    }
    assert client.post("/api/notifications/read/", {}, format="json").json() == {"marked": 3}
    assert not Notification.objects.filter(recipient=alice, read_at__isnull=True).exists()
    assert Notification.objects.filter(recipient=bob, read_at__isnull=True).count() == 1
    bad = client.post("/api/notifications/read/", {"ids": "all"}, format="json")
    assert bad.status_code == 400 and "ids" in bad.json()["fields"]
