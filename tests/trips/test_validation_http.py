"""Bad input over real HTTP: each a 400 whose `fields` names the offending field (in
camelCase), and nothing stored. Malformed and oversized bodies are 400s too, never 500."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from tests.conftest import access_token
from tests.factories import UserFactory
from tests.trips.factories import ExpenseFactory, ItineraryItemFactory, TripFactory, TripMemberFactory
from trips.models import Expense, ItineraryItem, Role, Trip, TripMember

pytestmark = pytest.mark.django_db(transaction=True)

TRIP = {"title": "Alps", "destination": "Chamonix", "startDate": "2026-07-10", "endDate": "2026-07-12"}


def expense(**overrides: object) -> dict:
    return {
        "description": "Hut",
        "amount": "42.50",
        "category": "lodging",
        "spentOn": "2026-07-10",
        **overrides,
    }


def test_invalid_writes_name_the_field_and_store_nothing(http: httpx.Client) -> None:
    owner = UserFactory()
    stranger = UserFactory()
    trip = TripFactory(created_by=owner, start_date="2026-07-10", end_date="2026-07-12")
    co_owner_less = TripFactory(created_by=owner)
    editor = TripMemberFactory(trip=co_owner_less, role=Role.EDITOR).user
    auth = {"Authorization": f"Bearer {access_token(owner)}"}
    trips_before, expenses_before = Trip.objects.count(), Expense.objects.count()

    def check(method: str, url: str, body: object, field: str, stored: Callable[[], bool]) -> None:
        response = http.request(method, url, json=body, headers=auth)
        assert response.status_code == 400, (url, body, response.text)
        assert response.json()["code"] == "validation_error"
        assert field in response.json()["fields"], (body, response.json())
        assert not stored(), (url, body)

    no_new_trip = lambda: Trip.objects.count() != trips_before  # noqa: E731
    check("POST", "/api/trips/", {**TRIP, "endDate": "2026-07-09"}, "endDate", no_new_trip)
    check("POST", "/api/trips/", {**TRIP, "currency": "XYZ"}, "currency", no_new_trip)
    check("POST", "/api/trips/", {**TRIP, "currency": "eu"}, "currency", no_new_trip)
    check("POST", "/api/trips/", {**TRIP, "budgetTotal": "-1.00"}, "budgetTotal", no_new_trip)
    # PATCH checks the new end against the stored start.
    check(
        "PATCH",
        f"/api/trips/{trip.pk}/",
        {"endDate": "2026-07-01"},
        "endDate",
        lambda: Trip.objects.get(pk=trip.pk).end_date.isoformat() != "2026-07-12",
    )
    check(
        "PATCH",
        f"/api/trips/{trip.pk}/",
        {"currency": "ABC"},
        "currency",
        lambda: Trip.objects.get(pk=trip.pk).currency != "EUR",
    )

    url = f"/api/trips/{trip.pk}/expenses/"
    no_new_expense = lambda: Expense.objects.count() != expenses_before  # noqa: E731
    for amount in ("-5.00", "0", "0.00", "12.345", 12.345, "abc", "1e400", "NaN", None, [], {}):
        check("POST", url, expense(amount=amount, paidBy=owner.pk), "amount", no_new_expense)
    check("POST", url, expense(amount="10.00", paidBy=stranger.pk), "paidBy", no_new_expense)
    check(
        "POST",
        url,
        expense(amount="10.00", paidBy=owner.pk, splitBetween=[owner.pk, stranger.pk]),
        "splitBetween",
        no_new_expense,
    )
    check("POST", url, expense(amount="10.00", paidBy="me"), "paidBy", no_new_expense)
    check("POST", url, expense(amount="10.00", paidBy=2**70), "paidBy", no_new_expense)
    existing = ExpenseFactory(trip=trip)
    check(
        "PATCH",
        f"{url}{existing.pk}/",
        {"amount": "-3.00"},
        "amount",
        lambda: Expense.objects.get(pk=existing.pk).amount != existing.amount,
    )
    check(
        "PATCH",
        f"{url}{existing.pk}/",
        {"paidBy": stranger.pk},
        "paidBy",
        lambda: Expense.objects.get(pk=existing.pk).paid_by_id != owner.pk,
    )

    check(
        "PATCH",
        f"/api/trips/{trip.pk}/budget/",
        {"total": "10.001"},
        "total",
        lambda: Trip.objects.get(pk=trip.pk).budget_total is not None,
    )
    check(
        "POST",
        f"/api/trips/{trip.pk}/itinerary/",
        {"title": "Hike", "startsAt": "2026-07-10T10:00:00Z", "endsAt": "2026-07-10T09:00:00Z"},
        "endsAt",
        lambda: ItineraryItem.objects.filter(trip=trip).exists(),
    )

    # The last owner can be neither demoted nor removed.
    members = f"/api/trips/{co_owner_less.pk}/members/"

    def still_owner() -> bool:  # "stored" here means: the owner lost the role
        return not TripMember.objects.filter(trip=co_owner_less, user=owner, role=Role.OWNER).exists()

    check("PATCH", f"{members}{owner.pk}/", {"role": "editor"}, "role", still_owner)
    check("DELETE", f"{members}{owner.pk}/", None, "userId", still_owner)
    check("PATCH", f"{members}{editor.pk}/", {"role": "admin"}, "role", lambda: False)
    check("POST", members, {"username": "nobody-here", "role": "viewer"}, "username", lambda: False)
    check("POST", members, {"username": editor.username, "role": "viewer"}, "username", lambda: False)
    # With a second owner, the first may step down.
    promoted = http.patch(f"{members}{editor.pk}/", json={"role": "owner"}, headers=auth)
    assert promoted.status_code == 200 and promoted.json()["role"] == "owner"
    demoted = http.patch(f"{members}{owner.pk}/", json={"role": "viewer"}, headers=auth)
    assert demoted.status_code == 200 and demoted.json()["role"] == "viewer"


def test_malformed_and_oversized_bodies_are_400_never_500(http: httpx.Client) -> None:
    owner = UserFactory()
    trip = TripFactory(created_by=owner)
    item = ItineraryItemFactory(trip=trip)
    spent = ExpenseFactory(trip=trip)
    auth = {"Authorization": f"Bearer {access_token(owner)}"}
    base = f"/api/trips/{trip.pk}"
    writes = [
        ("POST", "/api/trips/"),
        ("PATCH", f"{base}/"),
        ("POST", f"{base}/members/"),
        ("PATCH", f"{base}/members/{owner.pk}/"),
        ("POST", f"{base}/itinerary/"),
        ("PATCH", f"{base}/itinerary/{item.pk}/"),
        ("POST", f"{base}/itinerary/reorder/"),
        ("POST", f"{base}/expenses/"),
        ("PATCH", f"{base}/expenses/{spent.pk}/"),
        ("PATCH", f"{base}/budget/"),
    ]
    huge = "x" * 200_000
    bodies = [
        {
            "title": huge,
            "destination": huge,
            "description": huge,
            "notes": huge,
            "username": huge,
            "role": huge,
            "total": huge,
            "amount": huge,
            "itemIds": huge,
            "currency": huge,
            "startsAt": huge,
        },
        {
            "title": 5,
            "startDate": [1],
            "endDate": {"a": 1},
            "role": ["owner"],
            "total": {"x": 1},
            "amount": True,
            "paidBy": [1],
            "splitBetween": "all",
            "itemIds": [None],
            "position": -1,
            "startsAt": 17,
            "spentOn": "yesterday",
        },
        [1, 2, 3],
        "just a string",
        {"title": "nul\x00byte", "description": "nul\x00byte", "notes": "\x00", "username": "\x00"},
    ]
    failures = []
    for method, url in writes:
        for body in bodies:
            response = http.request(method, url, json=body, headers=auth)
            if response.status_code != 400 or "fields" not in response.json():
                failures.append(
                    f"{method} {url} {str(body)[:60]}: {response.status_code} {response.text[:200]}"
                )
        raw = http.request(
            method, url, content=b"{not json", headers={**auth, "Content-Type": "application/json"}
        )
        if raw.status_code != 400 or raw.json()["code"] != "parse_error":
            failures.append(f"{method} {url} non-JSON: {raw.status_code} {raw.text[:200]}")
    assert failures == []
    assert Trip.objects.count() == 1
