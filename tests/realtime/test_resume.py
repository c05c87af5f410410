"""Event ids and resume (protocol.md section 4): replay what a client missed, in order,
before room_joined; `recovered: false` when history does not reach back."""

from __future__ import annotations

import asyncio

import pytest

from tests.realtime.conftest import join, make_trip, make_user, signed_in, staff_broadcast

pytestmark = pytest.mark.django_db(transaction=True)


async def _missed_three(server, rejoin_server=None) -> None:  # type: ignore[no-untyped-def]
    alice, staff = await make_user(), await make_user(is_staff=True)
    trip = await make_trip(alice)
    room = f"trip_{trip.pk}"
    # A second tab keeps alice present: no presence events between the broadcasts.
    stay = await signed_in(server.ws_url, alice)
    await join(stay, room)
    ws = await signed_in(server.ws_url, alice)
    joined = (await join(ws, room))["payload"]
    await ws.close()
    admin = await signed_in(server.ws_url, staff)
    ids = [await staff_broadcast(admin, room, "trip_updated", {"n": n}) for n in range(3)]
    assert ids == [joined["lastEventId"] + 1 + n for n in range(3)]
    back = await signed_in((rejoin_server or server).ws_url, alice)
    await back.send("join_room", {"roomId": room, "since": joined["lastEventId"], "epoch": joined["epoch"]})
    received = [await back.recv() for _ in range(4)]
    assert [m["type"] for m in received] == ["trip_updated"] * 3 + ["room_joined"]
    assert [m["eventId"] for m in received[:3]] == ids
    assert [m["payload"] for m in received[:3]] == [{"n": 0}, {"n": 1}, {"n": 2}]
    assert received[3]["payload"]["recovered"] is True
    assert received[3]["payload"]["lastEventId"] == ids[-1]
    assert received[3]["payload"]["epoch"] == joined["epoch"]
    # Live delivery continues after the replay.
    next_id = await staff_broadcast(admin, room, "trip_updated", {"n": 3})
    assert (await back.expect("trip_updated"))["eventId"] == next_id
    await back.nothing(0.2)
    for socket in (stay, admin, back):
        await socket.close()


async def test_rejoin_with_since_replays_exactly_the_missed_events(node) -> None:
    await _missed_three(node)


async def test_wrong_epoch_or_too_old_is_not_recovered(strict_node) -> None:
    alice, staff = await make_user(), await make_user(is_staff=True)
    trip = await make_trip(alice)
    room = f"trip_{trip.pk}"
    admin = await signed_in(strict_node.ws_url, staff)
    stay = await signed_in(strict_node.ws_url, alice)  # keeps alice present: no presence events
    await join(stay, room)
    ws = await signed_in(strict_node.ws_url, alice)
    joined = (await join(ws, room))["payload"]
    await ws.send("leave_room", {"roomId": room})
    await ws.expect("room_left")
    for n in range(3):  # the strict node keeps 2 events per room
        await staff_broadcast(admin, room, "trip_updated", {"n": n})
    await ws.send("join_room", {"roomId": room, "since": joined["lastEventId"], "epoch": joined["epoch"]})
    answer = await ws.recv()
    assert answer["type"] == "room_joined" and answer["payload"]["recovered"] is False
    last = answer["payload"]["lastEventId"]
    await ws.send("leave_room", {"roomId": room})
    await ws.expect("room_left")
    await ws.send("join_room", {"roomId": room, "since": last, "epoch": "not-the-epoch"})
    answer = await ws.recv()
    assert answer["type"] == "room_joined" and answer["payload"]["recovered"] is False
    await ws.send("leave_room", {"roomId": room})
    await ws.expect("room_left")
    await ws.send("join_room", {"roomId": room, "since": last, "epoch": joined["epoch"]})
    answer = await ws.recv()  # nothing missed: recovered, nothing replayed
    assert answer["type"] == "room_joined" and answer["payload"]["recovered"] is True
    for socket in (admin, stay, ws):
        await socket.close()


async def test_no_event_lost_or_doubled_while_joining_during_a_stream(node) -> None:
    alice, staff = await make_user(), await make_user(is_staff=True)
    trip = await make_trip(alice)
    room = f"trip_{trip.pk}"
    admin = await signed_in(node.ws_url, staff)
    first = await staff_broadcast(admin, room, "trip_updated", {"n": -1})

    async def stream() -> list[int]:
        ids = []
        for n in range(20):
            await admin.send("test_broadcast", {"roomId": room, "type": "trip_updated", "payload": {"n": n}})
            await asyncio.sleep(0.002)
        for _ in range(20):
            ids.append((await admin.expect("test_broadcast_ack"))["payload"]["eventId"])
        return ids

    ws = await signed_in(node.ws_url, alice)
    sent = asyncio.create_task(stream())
    await asyncio.sleep(0.01)
    await ws.send("join_room", {"roomId": room, "since": first})
    seen: list[int] = []
    joined = None
    ids = await sent
    while len([i for i in seen if i in ids]) < len(ids):
        message = await ws.recv()
        if message["type"] == "room_joined":
            joined = message
        elif "eventId" in message:  # trip_updated, and alice's own user_joined
            assert joined is None or message["eventId"] > joined["payload"]["lastEventId"]
            seen.append(message["eventId"])
    assert joined is not None and joined["payload"]["recovered"] is True
    assert seen == sorted(seen) and len(seen) == len(set(seen))
    assert seen == list(range(first + 1, max(ids) + 1))
    await admin.close()
    await ws.close()
