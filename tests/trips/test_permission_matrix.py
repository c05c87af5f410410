"""api.md's access rules as a matrix, over real HTTP against a live daphne: every trips
endpoint x method x {anonymous, outsider, staff, viewer, editor, owner} x {private,
public}. Each test builds its cast once, collects every mismatch and asserts none."""

from __future__ import annotations

import httpx
import pytest

from tests.factories import UserFactory
from tests.trips.factories import ExpenseFactory, ItineraryItemFactory, TripMemberFactory
from tests.trips.world import TEN, Case, build_world, day, fresh_trip, run_matrix
from trips.models import ItineraryItem, Role

pytestmark = pytest.mark.django_db(transaction=True)


def trip_url(tw, suffix: str = "") -> str:  # type: ignore[no-untyped-def]
    return f"/api/trips/{tw.trip.pk}/{suffix}"


def test_trips_and_members_follow_the_access_rules(http: httpx.Client) -> None:
    world = build_world()
    trip_body = {"title": "New", "destination": "Porto", "startDate": day(0), "endDate": day(3)}
    cases = [
        Case("GET", lambda w, tw: "/api/trips/", "signed_in", (200,)),
        Case("POST", lambda w, tw: "/api/trips/", "signed_in", (201,), lambda w, tw: trip_body),
        Case("GET", lambda w, tw: trip_url(tw), "read", (200,)),
        Case("PATCH", lambda w, tw: trip_url(tw), "edit", (200,), lambda w, tw: {"description": "new plan"}),
        # DELETE gets a fresh trip with the same cast each time, so the matrix goes on.
        Case("DELETE", lambda w, tw: f"/api/trips/{fresh_trip(w, tw.trip.visibility).pk}/", "manage", (204,)),
        Case("GET", lambda w, tw: trip_url(tw, "members/"), "read", (200,)),
        Case(
            "POST",
            lambda w, tw: trip_url(tw, "members/"),
            "manage",
            (201,),
            lambda w, tw: {"username": UserFactory().username, "role": "viewer"},
        ),
        Case("GET", lambda w, tw: trip_url(tw, f"members/{tw.spare_member_id}/"), "read", (200,)),
        Case(
            "PATCH",
            lambda w, tw: trip_url(tw, f"members/{tw.spare_member_id}/"),
            "manage",
            (200,),
            lambda w, tw: {"role": "viewer"},
        ),
        Case(
            "DELETE",
            lambda w, tw: trip_url(tw, f"members/{TripMemberFactory(trip=tw.trip).user_id}/"),
            "manage",
            (204,),
        ),
    ]
    assert run_matrix(http, world, cases) == []


def test_itinerary_expenses_and_budget_follow_the_access_rules(http: httpx.Client) -> None:
    world = build_world()

    def all_item_ids(w, tw):  # type: ignore[no-untyped-def]
        ids = ItineraryItem.objects.filter(trip=tw.trip).order_by("-position").values_list("pk", flat=True)
        return {"itemIds": list(ids)}

    item = {"title": "Castle", "startsAt": "2026-06-02T10:00:00Z"}
    cases = [
        Case("GET", lambda w, tw: trip_url(tw, "itinerary/"), "read", (200,)),
        Case("POST", lambda w, tw: trip_url(tw, "itinerary/"), "edit", (201,), lambda w, tw: item),
        Case("GET", lambda w, tw: trip_url(tw, f"itinerary/{tw.item_id}/"), "read", (200,)),
        Case(
            "PATCH",
            lambda w, tw: trip_url(tw, f"itinerary/{tw.item_id}/"),
            "edit",
            (200,),
            lambda w, tw: {"notes": "bring water", "position": 0},
        ),
        Case(
            "DELETE",
            lambda w, tw: trip_url(tw, f"itinerary/{ItineraryItemFactory(trip=tw.trip).pk}/"),
            "edit",
            (204,),
        ),
        Case("POST", lambda w, tw: trip_url(tw, "itinerary/reorder/"), "edit", (200,), all_item_ids),
        Case("GET", lambda w, tw: trip_url(tw, "expenses/"), "read", (200,)),
        Case(
            "POST",
            lambda w, tw: trip_url(tw, "expenses/"),
            "edit",
            (201,),
            lambda w, tw: {
                "description": "Dinner",
                "amount": TEN,
                "category": "food",
                "paidBy": w.users["owner"].pk,
                "spentOn": day(1),
            },
        ),
        Case("GET", lambda w, tw: trip_url(tw, f"expenses/{tw.expense_id}/"), "read", (200,)),
        Case(
            "PATCH",
            lambda w, tw: trip_url(tw, f"expenses/{tw.expense_id}/"),
            "edit",
            (200,),
            lambda w, tw: {"description": "Lunch"},
        ),
        Case(
            "DELETE",
            lambda w, tw: trip_url(tw, f"expenses/{ExpenseFactory(trip=tw.trip).pk}/"),
            "edit",
            (204,),
        ),
        Case("GET", lambda w, tw: trip_url(tw, "budget/"), "read", (200,)),
        Case(
            "PATCH", lambda w, tw: trip_url(tw, "budget/"), "edit", (200,), lambda w, tw: {"total": "900.00"}
        ),
    ]
    assert run_matrix(http, world, cases) == []


def test_a_member_may_remove_themself_but_not_the_last_owner(http: httpx.Client) -> None:
    world = build_world()
    for visibility, tw in world.trips.items():
        for actor in ("viewer", "editor"):
            url = trip_url(tw, f"members/{world.users[actor].pk}/")
            response = http.delete(url, headers=world.headers(actor))
            assert response.status_code == 204, (visibility, actor, response.text)
            assert not tw.trip.members.filter(user=world.users[actor]).exists()
        owner = world.users["owner"]
        response = http.delete(trip_url(tw, f"members/{owner.pk}/"), headers=world.headers("owner"))
        assert response.status_code == 400
        assert list(response.json()["fields"]) == ["userId"]
        assert tw.trip.members.filter(user=owner, role=Role.OWNER).exists()
