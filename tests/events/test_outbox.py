"""events.publish (send_on_commit), in-process (no socket): what one transaction logs and
sends.

Payloads are built at the commit (the state the transaction committed); repeated changes
of one resource in one transaction are announced once; a deletion wins; a savepoint's
rollback takes its events with it; a rolled-back transaction sends nothing."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import pytest
from django.db import transaction

from tests.trips.factories import TripFactory
from trips import services
from trips.models import ItineraryItem

pytestmark = pytest.mark.django_db(transaction=True)

START = datetime.datetime(2026, 6, 2, 10, 0, tzinfo=datetime.UTC)


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str, dict[str, Any]]]:
    """What the commits hand to the real-time layer: the logged events, in order."""
    calls: list[tuple[str, str, dict[str, Any]]] = []
    monkeypatch.setattr(
        "events.delivery.send", lambda rows: calls.extend((row.room, row.type, row.payload) for row in rows)
    )
    return calls


def _item(trip: Any, title: str) -> ItineraryItem:
    return services.itinerary_item_create(trip=trip, user=trip.created_by, title=title, starts_at=START)


def test_insert_at_a_position_is_one_created_plus_the_shifted_item(sent) -> None:  # type: ignore[no-untyped-def]
    trip = TripFactory()
    first = _item(trip, "first")
    sent.clear()
    second = services.itinerary_item_create(
        trip=trip, user=trip.created_by, title="second", starts_at=START, position=0
    )
    assert [(p["id"], p["action"], p["position"]) for _, _, p in sent] == [
        (second.pk, "created", 0),  # built at the commit: its final position
        (first.pk, "updated", 1),
    ]


def test_change_then_delete_in_one_transaction_is_one_deleted(sent) -> None:  # type: ignore[no-untyped-def]
    trip = TripFactory()
    item = _item(trip, "doomed")
    sent.clear()
    with transaction.atomic():
        item = services.itinerary_item_update(item=item, data={"title": "renamed"})
        services.itinerary_item_delete(item=item)
    assert [(p["id"], p["action"], p["title"]) for _, _, p in sent] == [(item.pk, "deleted", "renamed")]


def test_a_rolled_back_savepoint_takes_its_deletion_with_it(sent) -> None:  # type: ignore[no-untyped-def]
    trip = TripFactory()
    item = _item(trip, "kept")
    sent.clear()
    with transaction.atomic():
        services.itinerary_item_update(item=item, data={"title": "kept, renamed"})
        try:
            with transaction.atomic():
                services.itinerary_item_delete(item=item)
                raise RuntimeError
        except RuntimeError:
            pass
    assert [(p["id"], p["action"], p["title"]) for _, _, p in sent] == [(item.pk, "updated", "kept, renamed")]


def test_a_rolled_back_transaction_sends_nothing(sent) -> None:  # type: ignore[no-untyped-def]
    trip = TripFactory()
    sent.clear()  # trip_created, to the creator's room
    with pytest.raises(RuntimeError), transaction.atomic():
        _item(trip, "never")
        services.trip_update(trip=trip, data={"title": "never", "budget_total": Decimal("10.00")})
        raise RuntimeError
    assert sent == []
    services.trip_update(trip=trip, data={"budget_total": Decimal("10.00")})
    assert [type_ for _, type_, _ in sent] == ["trip_updated", "budget_updated"]
    assert all(room == f"trip_{trip.pk}" for room, _, _ in sent)
