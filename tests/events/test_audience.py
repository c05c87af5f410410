"""The audience's wire form (events.audience): the ids joined into one text by the
database (SQLite's group_concat, PostgreSQL's string_agg in the second CI pass), read
back by the one rule every reader uses (realtime.delivery.audience.from_wire), rows
logged before it (a list of ids) included; a long one stored once in the log."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from events import log
from events.audience import EVERYONE, Audience
from events.models import LoggedEvent, SharedAudience
from realtime.delivery import audience
from tests.factories import UserFactory
from tests.trips.factories import TripFactory
from trips.models import TripMember, Visibility
from trips.realtime import trip_audience


@pytest.mark.django_db
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


@pytest.mark.django_db
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


# --- A long audience is stored once (events.models.SharedAudience) -------------------------
LONG = "," + ",".join(str(n) for n in range(1000, 1030))  # 30 ids: past INLINE_AUDIENCE


def _logged(room: str, audience: str | None) -> LoggedEvent:
    with transaction.atomic():
        (row,) = log.record([(room, "user_joined", {"roomId": room}, audience)])
    return row


@pytest.mark.django_db(transaction=True)
def test_a_long_audience_is_stored_once_and_every_read_gives_its_text_back() -> None:
    log._shared_ids.clear()
    first, second = _logged("trip_9001", LONG), _logged("trip_9001", LONG)
    short = _logged("trip_9001", ",7")
    assert len(LONG) > log.INLINE_AUDIENCE and first.audience == LONG  # the sender gets the text
    assert SharedAudience.objects.count() == 1
    stored = dict(LoggedEvent.objects.filter(room="trip_9001").values_list("event_id", "audience"))
    assert stored == {first.event_id: log.SHARED, second.event_id: log.SHARED, short.event_id: ",7"}
    with pytest.raises(ValueError):  # a row read around events.log fails closed
        audience.from_wire(log.SHARED)
    replayed = log.replay("trip_9001", 0, None).events
    assert [row.audience for row in replayed] == [LONG, LONG, ",7"]
    assert [row.audience for row in log.page("trip_9001", 0, 10)[0]] == [LONG, LONG, ",7"]
    assert [row.audience for row in log.after("trip_9001", 0, settled_before=0, window=60)] == [
        LONG,
        LONG,
        ",7",
    ]


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_shared_audience_is_not_remembered() -> None:
    log._shared_ids.clear()
    with pytest.raises(RuntimeError), transaction.atomic():
        log.record([("trip_9002", "user_joined", {"roomId": "trip_9002"}, LONG)])
        raise RuntimeError("the change failed")
    assert SharedAudience.objects.count() == 0 and log._shared_ids == {}
    row = _logged("trip_9002", LONG)  # not an id that no longer exists: written again
    assert LoggedEvent.objects.get(pk=row.pk).shared_audience.text == LONG
    assert len(log._shared_ids) == 1  # committed: remembered now
    with transaction.atomic(), transaction.atomic():  # in a savepoint of the caller's
        log.record([("trip_9002", "user_joined", {"roomId": "trip_9002"}, LONG + ",1")])
    assert len(log._shared_ids) == 1  # not remembered (a savepoint could have rolled back)


@pytest.mark.django_db(transaction=True)
def test_pruning_keeps_shared_audiences_in_use_and_touches_refresh_them() -> None:
    log._shared_ids.clear()
    old = _logged("trip_9003", LONG)
    unused = _logged("trip_9003", LONG + ",5000")
    long_ago = timezone.now() - log.retention() - timedelta(hours=1)
    LoggedEvent.objects.filter(pk=unused.pk).update(created_at=long_ago)
    SharedAudience.objects.update(last_used=long_ago)
    assert log.prune() == 1  # the old event of the second audience
    # The first is still referenced; the second was neither referenced nor used: gone.
    assert list(SharedAudience.objects.values_list("text", flat=True)) == [LONG]
    # A process that has not touched an id for TOUCH_EVERY upserts it again: last_used moves.
    log._shared_ids.update({d: (i, t - log.touch_every()) for d, (i, t) in log._shared_ids.items()})
    _logged("trip_9003", LONG)
    assert SharedAudience.objects.get().last_used > long_ago
    assert LoggedEvent.objects.filter(pk=old.pk).exists()
