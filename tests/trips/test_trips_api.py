"""Trips, members and itinerary: what the endpoints answer and store."""

from __future__ import annotations

import threading
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from social.serializers import ActivitySerializer, ChatMessageSerializer, NotificationSerializer
from tests.factories import UserFactory
from tests.social.factories import ActivityFactory, ChatMessageFactory, NotificationFactory
from tests.trips.factories import ExpenseFactory, ItineraryItemFactory, TripFactory, TripMemberFactory
from trips.models import ItineraryItem, Role, Trip, TripMember
from trips.serializers import ExpenseSerializer, ItineraryItemSerializer, TripMemberSerializer, TripSerializer
from trips.services import trip_member_update_role


@pytest.mark.django_db
def test_create_makes_the_creator_owner_and_rest_equals_the_event_payload(auth_api: Callable) -> None:
    from trava.api.camel import camelize

    alice = UserFactory()
    response = auth_api(alice).post(
        "/api/trips/",
        {
            "title": "Kyoto",
            "destination": "Kyoto",
            "startDate": "2026-04-01",
            "endDate": "2026-04-09",
            "currency": "jpy",
            "budgetTotal": "250000",
            "visibility": "public",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    trip = Trip.objects.get(pk=body["id"])
    assert (body["currency"], body["budgetTotal"], body["createdBy"]) == (
        "JPY",
        "250000.00",
        {"id": alice.pk, "username": alice.username},
    )
    assert TripMember.objects.get(trip=trip).role == Role.OWNER
    # The serializer needs no request: the same data is the WebSocket payload.
    assert camelize(TripSerializer(trip).data) == auth_api(alice).get(f"/api/trips/{trip.pk}/").json()


@pytest.mark.django_db
def test_output_serializers_work_from_an_instance_alone() -> None:
    trip = TripFactory()
    member = TripMemberFactory(trip=trip)
    outputs = [
        TripSerializer(trip).data,
        TripMemberSerializer(member).data,
        ItineraryItemSerializer(ItineraryItemFactory(trip=trip)).data,
        ExpenseSerializer(ExpenseFactory(trip=trip, amount=Decimal("10.00"))).data,
        ChatMessageSerializer(ChatMessageFactory(trip=trip)).data,
        NotificationSerializer(NotificationFactory()).data,
        ActivitySerializer(ActivityFactory(trip=trip)).data,
    ]
    assert all(output["id" if "id" in output else "trip_id"] for output in outputs)
    expense = outputs[3]
    assert (expense["amount"], expense["currency"], expense["split_between"]) == (
        "10.00",
        "EUR",
        sorted([trip.created_by_id, member.user_id]),
    )
    assert sum(Decimal(share["amount"]) for share in expense["shares"]) == Decimal("10.00")


@pytest.mark.django_db
def test_list_shows_my_trips_and_public_ones_on_request(auth_api: Callable) -> None:
    alice = UserFactory()
    mine = TripFactory(created_by=alice)
    public = TripFactory(visibility="public")
    TripFactory()  # someone else's private trip
    client = auth_api(alice)
    assert [t["id"] for t in client.get("/api/trips/").json()["results"]] == [mine.pk]
    both = {t["id"] for t in client.get("/api/trips/?public=true").json()["results"]}
    assert both == {mine.pk, public.pk}


@pytest.mark.django_db
def test_itinerary_positions_stay_dense_through_insert_move_delete_and_reorder(auth_api: Callable) -> None:
    alice = UserFactory()
    trip = TripFactory(created_by=alice)
    client = auth_api(alice)
    url = f"/api/trips/{trip.pk}/itinerary/"

    def titles() -> list[str]:
        items = ItineraryItem.objects.filter(trip=trip).order_by("position")
        assert [i.position for i in items] == list(range(len(items)))
        return [i.title for i in items]

    ids = {}
    for title in ("A", "B", "C"):
        ids[title] = client.post(
            url, {"title": title, "startsAt": "2026-06-01T10:00:00Z"}, format="json"
        ).json()["id"]
    made = client.post(url, {"title": "X", "startsAt": "2026-06-01T10:00:00Z", "position": 1}, format="json")
    assert made.json()["position"] == 1
    ids["X"] = made.json()["id"]
    assert titles() == ["A", "X", "B", "C"]
    assert client.patch(f"{url}{ids['A']}/", {"position": 99}, format="json").json()["position"] == 3
    assert titles() == ["X", "B", "C", "A"]
    assert client.delete(f"{url}{ids['B']}/").status_code == 204
    assert titles() == ["X", "C", "A"]
    order = [ids["A"], ids["C"], ids["X"]]
    reordered = client.post(f"{url}reorder/", {"itemIds": order}, format="json")
    assert [i["id"] for i in reordered.json()] == order
    assert titles() == ["A", "C", "X"]
    for bad in ([ids["A"], ids["C"]], [*order, ids["A"]], [*order[:2], 10**9]):
        response = client.post(f"{url}reorder/", {"itemIds": bad}, format="json")
        assert response.status_code == 400 and "itemIds" in response.json()["fields"]
    assert titles() == ["A", "C", "X"]


@pytest.mark.django_db(transaction=True)
def test_two_owners_demoting_each_other_at_once_leave_one_owner() -> None:
    alice, bob = UserFactory(), UserFactory()
    trip = TripFactory(created_by=alice)
    second = TripMemberFactory(trip=trip, user=bob, role=Role.OWNER)
    first = TripMember.objects.get(trip=trip, user=alice)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def demote(member: TripMember) -> None:
        try:
            barrier.wait()
            trip_member_update_role(member=member, role=Role.VIEWER)
            outcomes.append("demoted")
        except Exception as exc:
            outcomes.append(type(exc).__name__)
        finally:
            connection.close()

    threads = [threading.Thread(target=demote, args=(m,)) for m in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["ValidationError", "demoted"]
    assert TripMember.objects.filter(trip=trip, role=Role.OWNER).count() == 1


@pytest.mark.django_db
def test_the_visibility_check_is_a_constant_number_of_queries(auth_api: Callable) -> None:
    alice = UserFactory()
    trip = TripFactory(created_by=alice)
    with CaptureQueriesContext(connection) as ctx:
        assert auth_api(alice).get(f"/api/trips/{trip.pk}/").status_code == 200
    assert len(ctx.captured_queries) <= 3  # user, trip, membership
