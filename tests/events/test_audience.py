"""The audience's wire form (events.audience): the ids joined into one text by the
database (SQLite's group_concat, PostgreSQL's string_agg in the second CI pass), read
back by the one rule every reader uses (realtime.delivery.audience.from_wire), rows
logged before it (a list of ids) included."""

from __future__ import annotations

import pytest

from events.audience import EVERYONE, Audience
from realtime.delivery import audience
from tests.factories import UserFactory
from tests.trips.factories import TripFactory
from trips.models import TripMember, Visibility
from trips.realtime import trip_audience

pytestmark = pytest.mark.django_db


def test_a_column_audience_is_the_same_set_as_the_ids_it_holds() -> None:
    trip = TripFactory(visibility=Visibility.PRIVATE)
    extra = [UserFactory() for _ in range(30)]
    for user in extra:
        TripMember.objects.create(trip=trip, user=user)
    ids = set(TripMember.objects.filter(trip=trip).values_list("user_id", flat=True))
    made = Audience.of_column(TripMember, "user_id", where="trip_id", equals=trip.pk)
    assert made.text is not None and made.text.startswith(",")
    assert audience.from_wire(made.to_wire()) == frozenset(ids)
    assert audience.from_wire(Audience.of_users(ids).to_wire()) == frozenset(ids)
    assert trip_audience(trip.pk) == made  # the trip's rule is that query


def test_nobody_everyone_and_older_rows_read_back_by_the_one_rule() -> None:
    nobody = Audience.of_column(TripMember, "user_id", where="trip_id", equals=-1)
    assert nobody.to_wire() == "," and audience.from_wire(nobody.to_wire()) == frozenset()
    assert Audience.of_users(()).to_wire() == ","
    assert not audience.allows(audience.from_wire(","), 1, via_staff=False)
    assert EVERYONE.to_wire() is None and audience.from_wire(None) is None
    assert audience.allows(audience.from_wire(None), 1, via_staff=False)
    # A row logged before the text form holds a list; the channel layer carries "" for everyone.
    assert audience.from_wire([3, 1]) == frozenset({1, 3})
    assert (
        audience.encode([3, 1]) == ",3,1"
        and audience.encode(",1,3") == ",1,3"
        and audience.encode(None) == ""
    )
    assert audience.from_wire(audience.encode(None)) is None
    public = TripFactory(visibility=Visibility.PUBLIC)
    assert trip_audience(public.pk) is EVERYONE
