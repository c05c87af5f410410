"""A trip with members, plan, expenses and chat, as the live trip page's tests find it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from tests.factories import PASSWORD, UserFactory
from trips import services as trips
from trips.models import Role


@dataclass
class TripScene:
    alice: Any
    bob: Any
    trip: Any
    password: str = PASSWORD


@pytest.fixture
def trip_scene(transactional_db: None) -> TripScene:
    from social.services import chat_message_send

    alice = UserFactory(username="alice")
    bob = UserFactory(username="bob")
    trip = trips.trip_create(
        user=alice,
        title="Lisbon with friends",
        destination="Lisbon, Portugal",
        start_date=date(2026, 5, 1),
        end_date=date(2026, 5, 6),
        description="Tiles, trams and pastéis de nata.",
        currency="EUR",
        budget_total=Decimal("1500.00"),
    )
    trips.trip_member_add(trip=trip, user=bob, role=Role.EDITOR)
    trips.itinerary_item_create(
        trip=trip,
        user=alice,
        title="Check in at Casa Alfama",
        starts_at=datetime(2026, 5, 1, 15, 0, tzinfo=UTC),
        location="Rua dos Remédios 12",
    )
    trips.itinerary_item_create(
        trip=trip,
        user=bob,
        title="Tram 28 to Estrela",
        starts_at=datetime(2026, 5, 2, 9, 30, tzinfo=UTC),
        location="Praça Martim Moniz",
    )
    trips.expense_add(
        trip=trip,
        user=alice,
        description="Apartment, 5 nights",
        amount=Decimal("640.00"),
        paid_by_id=alice.pk,
        spent_on=date(2026, 5, 1),
        category="lodging",
    )
    chat_message_send(trip=trip, author=bob, text="Landed! Heading to the apartment.")
    return TripScene(alice=alice, bob=bob, trip=trip)
