"""Events leave only after the commit, and a failing channel layer never fails a request.

Rolled back: the server itself must roll back a change it already wrote, so the
database fails the request's transaction after the write (a trigger on expense shares,
which are inserted after the expense row and its post_save). The proof is the eventId:
the next committed change is the very next id the member saw, so nothing was sent or
stored in the history in between. With Redis, the test process shares the channel layer
and history with the server, so a change rolled back in-process is checked the same way.
"""

from __future__ import annotations

import pytest

from tests.events.conftest import Rest, db_call, event, listener, people

pytestmark = pytest.mark.django_db(transaction=True)

FAIL_DESCRIPTION = "ROLLBACK-ME"
_SQLITE_TRIGGER = f"""
CREATE TRIGGER events_test_fail_after_write BEFORE INSERT ON trips_expenseshare
WHEN (SELECT description FROM trips_expense WHERE id = NEW.expense_id) = '{FAIL_DESCRIPTION}'
BEGIN SELECT RAISE(ABORT, 'events test: failure after the write'); END
"""
_PG_FUNCTION = f"""
CREATE OR REPLACE FUNCTION events_test_fail_after_write() RETURNS trigger AS $$
BEGIN
  IF (SELECT description FROM trips_expense WHERE id = NEW.expense_id) = '{FAIL_DESCRIPTION}' THEN
    RAISE EXCEPTION 'events test: failure after the write';
  END IF;
  RETURN NEW;
END $$ LANGUAGE plpgsql
"""
_PG_TRIGGER = """
CREATE TRIGGER events_test_fail_after_write BEFORE INSERT ON trips_expenseshare
FOR EACH ROW EXECUTE FUNCTION events_test_fail_after_write()
"""


@db_call
def _fail_after_write(install: bool) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            if install:
                cursor.execute(_PG_FUNCTION)
                cursor.execute(_PG_TRIGGER)
            else:
                cursor.execute("DROP TRIGGER IF EXISTS events_test_fail_after_write ON trips_expenseshare")
                cursor.execute("DROP FUNCTION IF EXISTS events_test_fail_after_write()")
        elif install:
            cursor.execute(_SQLITE_TRIGGER)
        else:
            cursor.execute("DROP TRIGGER IF EXISTS events_test_fail_after_write")


@db_call
def _expense_count(trip_id: int) -> int:
    from trips.models import Expense

    return Expense.objects.filter(trip_id=trip_id).count()


def _expense(owner_id: int, description: str) -> dict:
    return {"description": description, "amount": "12.00", "paidBy": owner_id, "spentOn": "2026-05-02"}


async def test_a_request_rolled_back_after_its_write_sends_nothing(server) -> None:
    trip, (owner, viewer), (owner_api, _) = await people(server)
    room = f"trip_{trip.pk}"
    ws = await listener(server, viewer, room)
    joined_last = await _last_event_id(ws, room)
    await _fail_after_write(True)
    try:
        response = await owner_api.client.post(
            f"/api/trips/{trip.pk}/expenses/", json=_expense(owner.pk, FAIL_DESCRIPTION)
        )
        assert response.status_code == 500  # the expense row was written, then rolled back
    finally:
        await _fail_after_write(False)
    assert await _expense_count(trip.pk) == 0
    await ws.nothing(0.5)
    await owner_api.post(f"/trips/{trip.pk}/expenses/", _expense(owner.pk, "Coffee"))
    added = await event(ws, "expense_added", room)
    assert added["eventId"] == joined_last + 1  # nothing was sent, nor kept for resume
    assert added["payload"]["description"] == "Coffee"


async def _last_event_id(ws, room: str) -> int:  # type: ignore[no-untyped-def]
    await ws.send("join_room", {"roomId": room})  # already in: answers the room's state
    return (await ws.expect("room_joined", timeout=10))["payload"]["lastEventId"]


@db_call
def _update_title_in_process(trip_id: int, title: str, *, fail: bool) -> None:
    from django.db import transaction

    from trips.models import Trip
    from trips.services import trip_update

    class Abort(Exception):
        pass

    try:
        with transaction.atomic():
            trip_update(trip=Trip.objects.get(pk=trip_id), data={"title": title})
            if fail:
                raise Abort
    except Abort:
        pass


@pytest.mark.redis
async def test_in_process_rollback_sends_nothing_commit_sends_one(server) -> None:
    trip, (_, viewer), (owner_api, _) = await people(server)
    room = f"trip_{trip.pk}"
    ws = await listener(server, viewer, room)
    joined_last = await _last_event_id(ws, room)
    await _update_title_in_process(trip.pk, "Never happened", fail=True)
    await ws.nothing(0.5)
    await _update_title_in_process(trip.pk, "Gaia", fail=False)
    received = await event(ws, "trip_updated", room)
    assert received["eventId"] == joined_last + 1
    assert received["payload"] == await owner_api.get(f"/trips/{trip.pk}/")
    assert received["payload"]["title"] == "Gaia"


async def test_with_the_channel_layer_down_the_request_still_succeeds(daphne_factory) -> None:
    # A node whose Redis (channel layer) is a closed port: every broadcast
    # fails. The request must commit and answer 2xx, with its events in the event log
    # (the nodes' catch-up delivers them once Redis is back); the failure is logged.
    node = daphne_factory(env={"REDIS_URL": "redis://127.0.0.1:9/0"})
    trip, (owner, _), _ = await people(node)
    api = await Rest.of(node, owner)
    expense = await api.post(f"/trips/{trip.pk}/expenses/", _expense(owner.pk, "Tram 28"))
    assert (await api.get(f"/trips/{trip.pk}/expenses/{expense['id']}/"))["description"] == "Tram 28"
    await api.patch(f"/trips/{trip.pk}/", {"title": "Still saved"})
    assert (await api.get(f"/trips/{trip.pk}/"))["title"] == "Still saved"
    log = node.log_path.read_text(errors="replace")
    assert f"broadcast to trip_{trip.pk} failed (the nodes' catch-up delivers it)" in log
    assert {"expense_added", "trip_updated"} <= {t for _, t in await _logged(f"trip_{trip.pk}")}
    await api.close()


@db_call
def _logged(room: str) -> list[tuple[int, str]]:
    from events.models import LoggedEvent

    return list(LoggedEvent.objects.filter(room=room).values_list("event_id", "type"))
