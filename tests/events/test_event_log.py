"""The event log (protocol.md 9.3), over real HTTP and WebSocket frames against live nodes.

A change and its event commit together, with gap-free per-room ids; an event committed
by a process that never sent it (a node killed between commit and broadcast) reaches the
room late through the relay; resume is exact for the retention and says
`recovered: false` / 410 past it; `GET /api/rooms/<roomId>/events/` gives what a replay
gives.
"""

from __future__ import annotations

import asyncio
import datetime
from typing import Any

import httpx
import pytest
from django.db import transaction

from events.models import LoggedEvent
from tests.events.conftest import Rest, event, join, listener, people, signed_in
from tests.realtime.conftest import db_call, make_user

pytestmark = pytest.mark.django_db(transaction=True)


@db_call
def logged(room: str) -> list[tuple[int, str]]:
    return list(LoggedEvent.objects.filter(room=room).order_by("event_id").values_list("event_id", "type"))


@db_call
def rolled_back_message(trip_id: int, author: Any) -> None:
    from social.services import chat_message_send
    from trips.models import Trip

    with pytest.raises(RuntimeError), transaction.atomic():
        chat_message_send(
            trip=Trip.objects.get(pk=trip_id), author=author, text="never", client_message_id=None
        )
        raise RuntimeError("rolled back")


async def test_a_change_and_its_event_commit_together_with_gap_free_ids(server) -> None:
    trip, (owner, _), (owner_api, _) = await people(server)
    room = f"trip_{trip.pk}"
    await owner_api.post(f"/trips/{trip.pk}/messages/", {"text": "one"})
    await rolled_back_message(trip.pk, owner)  # its event goes with it
    await owner_api.post(f"/trips/{trip.pk}/messages/", {"text": "two"})
    rows = await logged(room)
    assert [t for _, t in rows].count("message_sent") == 2
    assert [event_id for event_id, _ in rows] == list(range(1, len(rows) + 1))
    await owner_api.close()


async def test_concurrent_writers_in_one_room_serialize_on_its_ids(server) -> None:
    trip, users, apis = await people(server, 3)
    room = f"trip_{trip.pk}"
    ws = await listener(server, users[1], room)
    await asyncio.gather(
        *(
            api.post(f"/trips/{trip.pk}/messages/", {"text": f"{n}-{i}"})
            for n, api in enumerate(apis)
            for i in range(5)
        )
    )
    rows = await logged(room)
    assert [event_id for event_id, _ in rows] == list(range(1, len(rows) + 1))
    received = set()
    while len(received) < 15:
        message = await event(ws, "message_sent", room)
        received.add(message["payload"]["text"])
    await ws.close()
    for api in apis:
        await api.close()


async def test_an_event_committed_but_never_sent_reaches_the_room_through_the_relay(
    server, monkeypatch
) -> None:
    """A node killed between its commit and its broadcast: here the committing process is
    the test, whose sending is switched off, so only the live node's relay can deliver."""
    from social.services import chat_message_send
    from trips.models import Trip

    trip, (owner, member), _ = await people(server)
    room = f"trip_{trip.pk}"
    ws = await listener(server, member, room)
    monkeypatch.setattr("events.delivery.send", lambda rows: None)  # died after the commit

    @db_call
    def write() -> None:
        chat_message_send(
            trip=Trip.objects.get(pk=trip.pk), author=owner, text="late, not lost", client_message_id=None
        )

    await write()
    message = await event(ws, "message_sent", room, timeout=10)
    assert message["payload"]["text"] == "late, not lost"
    assert (message["eventId"], "message_sent") in await logged(room)
    # Once: every relay marks an event before sending it.
    with pytest.raises(TimeoutError):
        await event(ws, "message_sent", room, timeout=2.5)
    await ws.close()


@db_call
def age_events(room: str, by: datetime.timedelta) -> None:
    from django.db.models import F

    LoggedEvent.objects.filter(room=room).update(created_at=F("created_at") - by)


async def test_a_client_away_for_two_hours_resumes_exactly(server) -> None:
    trip, (_, member), (owner_api, _) = await people(server)
    room = f"trip_{trip.pk}"
    ws = await listener(server, member, room)
    seen = (await join(ws, room))["payload"]
    await ws.close()
    for n in range(5):
        await owner_api.post(f"/trips/{trip.pk}/messages/", {"text": f"while away {n}"})
    await age_events(room, datetime.timedelta(hours=2))  # the phone slept over lunch
    async with await signed_in(server.ws_url, member) as ws:
        await ws.send("join_room", {"roomId": room, "since": seen["lastEventId"], "epoch": seen["epoch"]})
        texts = []
        while True:
            message = await ws.recv(timeout=10)
            if message["type"] == "room_joined":
                break
            if message["type"] == "message_sent":
                texts.append(message["payload"]["text"])
    assert message["payload"]["recovered"] is True
    assert message["payload"]["epoch"] == seen["epoch"]
    assert texts == [f"while away {n}" for n in range(5)]
    await owner_api.close()


async def test_a_since_beyond_retention_is_not_recovered_and_410_over_rest(server) -> None:
    trip, (_, member), (owner_api, member_api) = await people(server)
    room = f"trip_{trip.pk}"
    await owner_api.post(f"/trips/{trip.pk}/messages/", {"text": "old"})
    await age_events(room, datetime.timedelta(days=8))  # past the 7-day retention
    async with await signed_in(server.ws_url, member) as ws:
        joined = (await join(ws, room, since=0))["payload"]
    assert joined["recovered"] is False
    answer = await member_api.call("GET", f"/rooms/{room}/events/?since=0", 410)
    assert answer["code"] == "history_expired"
    for api in (owner_api, member_api):
        await api.close()


async def test_rest_catch_up_gives_what_a_replay_gives(server) -> None:
    trip, (_, member), (owner_api, member_api) = await people(server)
    room = f"trip_{trip.pk}"
    start = await member_api.get(f"/rooms/{room}/events/?since=0")
    for n in range(7):
        await owner_api.post(f"/trips/{trip.pk}/messages/", {"text": f"m{n}"})
    page = await member_api.get(f"/rooms/{room}/events/?since={start['lastEventId']}&pageSize=4")
    assert len(page["results"]) == 4 and page["next"]
    rest = page["results"]
    async with httpx.AsyncClient(headers=member_api.client.headers, timeout=20) as client:
        rest += (await client.get(page["next"])).json()["results"]
    async with await signed_in(server.ws_url, member) as ws:
        await ws.send("join_room", {"roomId": room, "since": start["lastEventId"], "epoch": start["epoch"]})
        replayed = []
        while (message := await ws.recv(timeout=10))["type"] != "room_joined":
            replayed.append(message)
    own_join = [m for m in replayed if m["type"] == "user_joined"]  # the joiner's own presence
    assert rest == [m for m in replayed if m not in own_join]
    assert [m["payload"]["text"] for m in rest] == [f"m{n}" for n in range(7)]
    # The same access rule: an outsider gets 404, bad input 400.
    stranger = await Rest.of(server, await make_user())
    await stranger.call("GET", f"/rooms/{room}/events/?since=0", 404)
    await member_api.call("GET", f"/rooms/{room}/events/?since=-1", 400)
    await member_api.call("GET", f"/rooms/{room}/events/", 400)
    await member_api.call("GET", "/rooms/trip_1%0A/events/?since=0", 404)
    for api in (owner_api, member_api, stranger):
        await api.close()


async def test_rest_catch_up_applies_the_audience_rule(server) -> None:
    trip, _, (owner_api, _) = await people(server)
    room = f"trip_{trip.pk}"
    await owner_api.post(f"/trips/{trip.pk}/messages/", {"text": "before you came"})
    newcomer = await make_user()
    await owner_api.post(f"/trips/{trip.pk}/members/", {"username": newcomer.username})
    await owner_api.post(f"/trips/{trip.pk}/messages/", {"text": "welcome"})
    newcomer_api = await Rest.of(server, newcomer)
    page = await newcomer_api.get(f"/rooms/{room}/events/?since=0")
    texts = [m["payload"]["text"] for m in page["results"] if m["type"] == "message_sent"]
    assert texts == ["welcome"]
    for api in (owner_api, newcomer_api):
        await api.close()
