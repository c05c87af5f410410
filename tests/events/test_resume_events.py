"""Resume with real events (protocol.md section 4): a member disconnects, three REST
changes happen, the member rejoins with `since` and gets exactly those three, in order,
then `room_joined` with `recovered: true`."""

from __future__ import annotations

import pytest

from tests.events.conftest import Rest, event, join, listener, people, signed_in, validate
from trava.events_catalogue import EVENTS

pytestmark = pytest.mark.django_db(transaction=True)


async def _three_changes(api: Rest, trip_id: int) -> list[dict]:
    """Three changes, one event each; their REST representations (what the events carry)."""
    trip = await api.patch(f"/trips/{trip_id}/", {"title": "Porto, again"})
    item = await api.post(
        f"/trips/{trip_id}/itinerary/", {"title": "Bolhão", "startsAt": "2026-05-04T09:00:00Z"}
    )
    message = await api.post(f"/trips/{trip_id}/messages/", {"text": "Back online soon"})
    return [trip, {**item, "action": "created"}, message]


async def _disconnected_member(server, trip, member):  # type: ignore[no-untyped-def]
    """The member's tab that goes away, with the state it saw; a second tab keeps the
    member present, so no presence event falls between the changes."""
    room = f"trip_{trip.pk}"
    stay = await listener(server, member, room)
    ws = await signed_in(server.ws_url, member)
    seen = (await join(ws, room))["payload"]
    await ws.close()
    return stay, seen


async def _rejoin(server, member, room: str, seen: dict) -> list[dict]:  # type: ignore[no-untyped-def]
    back = await signed_in(server.ws_url, member)
    await back.send("join_room", {"roomId": room, "since": seen["lastEventId"], "epoch": seen["epoch"]})
    received = [await back.recv(timeout=10)]
    while received[-1]["type"] != "room_joined":
        received.append(await back.recv(timeout=10))
    await back.close()
    return received


async def test_rejoin_with_since_replays_the_three_missed_events_in_order(server) -> None:
    trip, (_, member), (owner_api, _) = await people(server)
    room = f"trip_{trip.pk}"
    stay, seen = await _disconnected_member(server, trip, member)
    representations = await _three_changes(owner_api, trip.pk)
    received = await _rejoin(server, member, room, seen)
    assert [m["type"] for m in received] == [
        "trip_updated",
        "itinerary_modified",
        "message_sent",
        "room_joined",
    ]
    assert [m["eventId"] for m in received[:3]] == [seen["lastEventId"] + n for n in (1, 2, 3)]
    for message in received[:3]:
        assert message["roomId"] == room
        validate(EVENTS[message["type"]], message["payload"])
    assert [m["payload"] for m in received[:3]] == representations
    answer = received[3]["payload"]
    assert answer["recovered"] is True and answer["epoch"] == seen["epoch"]
    assert answer["lastEventId"] == seen["lastEventId"] + 3
    await stay.close()


async def test_too_old_or_wrong_epoch_is_not_recovered(daphne_factory) -> None:
    node = daphne_factory(env={"HISTORY_MAX_EVENTS": "2"})  # keeps 2 events per room
    trip, (_, member), (owner_api, _) = await people(node)
    room = f"trip_{trip.pk}"
    stay, seen = await _disconnected_member(node, trip, member)
    await _three_changes(owner_api, trip.pk)
    received = await _rejoin(node, member, room, seen)
    assert [m["type"] for m in received] == ["room_joined"]  # nothing replayed: re-read REST
    assert received[0]["payload"]["recovered"] is False
    assert received[0]["payload"]["lastEventId"] == seen["lastEventId"] + 3

    now = received[0]["payload"]
    wrong = await _rejoin(node, member, room, {**now, "epoch": "not-the-epoch"})
    assert [m["type"] for m in wrong] == ["room_joined"] and wrong[0]["payload"]["recovered"] is False
    await stay.close()


@pytest.mark.redis
async def test_replay_through_another_node_than_the_one_that_sent(server, daphne_factory) -> None:
    other = daphne_factory()  # the same database and Redis prefix: one cluster
    trip, (_, member), (owner_api, _) = await people(server)
    room = f"trip_{trip.pk}"
    stay, seen = await _disconnected_member(server, trip, member)
    representations = await _three_changes(owner_api, trip.pk)  # sent by the first node
    received = await _rejoin(other, member, room, seen)
    assert [m["type"] for m in received][-1] == "room_joined" and len(received) == 4
    assert [m["payload"] for m in received[:3]] == representations
    assert received[3]["payload"]["recovered"] is True
    await event(stay, "message_sent", room)  # live delivery on the first node meanwhile
    await stay.close()
