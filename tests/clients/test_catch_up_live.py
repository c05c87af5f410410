"""The REST catch-up (protocol.md 9.3) in the Python client and `ws_tail`, against a real
daphne: a re-join whose replay the server refuses (more than HISTORY_MAX_EVENTS missed)
still gets every missed event, in order, once, from `GET /api/rooms/<roomId>/events/`;
past retention (410 `history_expired`) the client falls back to `resync`."""

from __future__ import annotations

import asyncio
import json
from io import StringIO

import pytest
from django.core.management import call_command

from realtime.client import CatchUpError, Timing, TravaClient
from tests.clients.test_live_server import _post, _texts, _trip_with_owner

pytestmark = pytest.mark.django_db(transaction=True)

TIMING = Timing(base_delay=0.2, max_delay=1.0, quick_delay=0.3)


def test_python_client_catches_up_over_rest_when_the_replay_is_refused(daphne_factory) -> None:  # type: ignore[no-untyped-def]
    trip_id, token = _trip_with_owner()  # event 1: the owner's member_added
    node = daphne_factory(env={"HISTORY_MAX_EVENTS": "2"})
    room = f"trip_{trip_id}"

    async def scenario() -> None:
        for text in ("m1", "m2", "m3", "m4"):  # events 2..5: more than a replay carries
            await _post(node.http_url, trip_id, token, text)
        resyncs: list[str] = []
        client = TravaClient(
            node.ws_url, token=lambda: token, timing=TIMING, on_resync=lambda r: resyncs.append(r.room_id)
        )
        async with client:
            chat = client.events(room, types=["message_sent"])
            caught = client.events(room, types=["caught_up"])
            joined = await client.join(room, since=1, timeout=15)  # as if re-joining from 1
            assert joined.recovered is False, "the server refused the replay (HISTORY_MAX_EVENTS)"
            assert await _texts(chat, 4) == ["m1", "m2", "m3", "m4"]
            info = (await caught.get(timeout=15))["payload"]
            # Every id after 1 up to the log's head was delivered (our own user_joined too).
            assert (info["roomId"], info["since"]) == (room, 1)
            assert info["count"] == info["lastEventId"] - 1 >= 4
            await _post(node.http_url, trip_id, token, "live")
            assert await _texts(chat, 1) == ["live"]
            with pytest.raises(TimeoutError):
                await chat.get(timeout=0.5)  # nothing twice
            assert resyncs == [] and client.rooms[room].catch_ups == 1
            page = await client.catch_up(room, 4)
            texts = [e["payload"]["text"] for e in page.events if e["type"] == "message_sent"]
            assert texts == ["m4", "live"]
            ids = [e["eventId"] for e in page.events]
            assert ids == sorted(ids) and ids[0] == 5 and page.last_event_id == ids[-1]

    asyncio.run(scenario())


def test_python_client_resyncs_when_the_catch_up_answers_history_expired(daphne_factory) -> None:  # type: ignore[no-untyped-def]
    trip_id, token = _trip_with_owner()
    node = daphne_factory(env={"HISTORY_RETENTION": "1"})
    room = f"trip_{trip_id}"

    async def scenario() -> None:
        await _post(node.http_url, trip_id, token, "old")
        await asyncio.sleep(1.5)  # past retention
        resyncs: list[str] = []
        client = TravaClient(
            node.ws_url, token=lambda: token, timing=TIMING, on_resync=lambda r: resyncs.append(r.room_id)
        )
        async with client:
            with pytest.raises(CatchUpError) as expired:
                await client.catch_up(room, 1)
            assert expired.value.code == "history_expired" and expired.value.status == 410
            chat = client.events(room, types=["message_sent"])
            signals = client.events(room, types=["resync", "caught_up"])
            await client.join(room, since=1, timeout=15)
            assert (await signals.get(timeout=15))["type"] == "resync"
            assert resyncs == [room]
            await _post(node.http_url, trip_id, token, "new")
            assert await _texts(chat, 1) == ["new"], "live events continue after the resync"

    asyncio.run(scenario())


def test_ws_tail_since_prints_missed_events_through_the_rest_catch_up(daphne_factory) -> None:  # type: ignore[no-untyped-def]
    trip_id, token = _trip_with_owner()
    node = daphne_factory(env={"HISTORY_MAX_EVENTS": "1"})  # the socket replay alone would refuse
    for text in ("a", "b", "c"):
        asyncio.run(_post(node.http_url, trip_id, token, text))
    out, err = StringIO(), StringIO()
    call_command(
        "ws_tail", f"trip_{trip_id}", "--token", token, "--url", node.ws_url,
        "--since", "1", "--max-events", "3", "--timeout", "20", stdout=out, stderr=err,
    )  # fmt: skip
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [(line["type"], line["eventId"], line["payload"]["text"]) for line in lines] == [
        ("message_sent", 2, "a"),
        ("message_sent", 3, "b"),
        ("message_sent", 4, "c"),
    ], err.getvalue()
    assert "[caught up: 3 events to #4]" in err.getvalue()
