"""The Python client and `ws_tail` against a real daphne: a server restart, resume with no
loss and no duplicates, and a live room tailed by an operator."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
from datetime import date
from io import StringIO
from pathlib import Path

import httpx
import pytest
from django.core.management import call_command

from realtime.client import Timing, TravaClient
from tests.conftest import access_token
from tests.factories import UserFactory
from trips.services import trip_create

pytestmark = pytest.mark.django_db(transaction=True)

TIMING = Timing(base_delay=0.2, max_delay=1.0, quick_delay=0.3)


def _trip_with_owner() -> tuple[int, str]:
    alice = UserFactory(username="alice-live")
    trip = trip_create(
        user=alice,
        title="Lisbon",
        destination="Lisbon",
        start_date=date(2027, 5, 1),
        end_date=date(2027, 5, 8),
    )
    return trip.pk, access_token(alice)


async def _post(http_url: str, trip_id: int, token: str, text: str) -> None:
    async with httpx.AsyncClient(base_url=http_url, timeout=15) as http:
        response = await http.post(
            f"/api/trips/{trip_id}/messages/",
            json={"text": text},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.status_code == 201, response.text


async def _texts(subscription, count: int) -> list[str]:  # type: ignore[no-untyped-def]
    return [(await subscription.get(timeout=15))["payload"]["text"] for _ in range(count)]


def test_python_client_survives_a_restart_of_its_server(daphne_factory) -> None:  # type: ignore[no-untyped-def]
    """One node, restarted. The event log outlives it (SQLite or PostgreSQL): the client
    resumes exactly, nothing lost, nothing delivered twice, nothing to re-read."""
    trip_id, token = _trip_with_owner()
    node = daphne_factory()
    room = f"trip_{trip_id}"

    async def scenario() -> tuple[list[str], list[str], TravaClient]:
        resyncs: list[str] = []
        client = TravaClient(
            node.ws_url, token=lambda: token, timing=TIMING, on_resync=lambda r: resyncs.append(r.room_id)
        )
        async with client:
            chat = client.events(room, types=["message_sent"])
            await client.join(room, timeout=15)
            await _post(node.http_url, trip_id, token, "before-1")
            await _post(node.http_url, trip_id, token, "before-2")
            before = await _texts(chat, 2)
            await asyncio.to_thread(node.restart)  # SIGTERM: the client sees 1012, then reconnects
            await client.join(room, timeout=15)
            await asyncio.wait_for(_until(lambda: client.connections >= 2 and client.state == "open"), 20)
            await _post(node.http_url, trip_id, token, "after-1")
            after = await _texts(chat, 1)
            with pytest.raises(TimeoutError):
                await chat.get(timeout=0.5)  # nothing else, nothing twice
            return before + after, resyncs, client

    texts, resyncs, client = asyncio.run(scenario())
    assert texts == ["before-1", "before-2", "after-1"]
    assert client.disconnects[0].code == 1012
    assert resyncs == []


async def _until(predicate) -> None:  # type: ignore[no-untyped-def]
    while not predicate():  # noqa: ASYNC110 - polls another thread's output
        await asyncio.sleep(0.05)


@pytest.mark.redis
def test_python_client_resumes_what_it_missed_while_its_node_was_down(daphne_factory) -> None:  # type: ignore[no-untyped-def]
    """Node A restarts while node B takes the REST writes: back on A, the client rejoins
    with `since` and gets exactly the missed messages, in order, once."""
    trip_id, token = _trip_with_owner()
    node_a, node_b = daphne_factory(), daphne_factory()
    room = f"trip_{trip_id}"

    async def scenario() -> tuple[list[str], TravaClient]:
        resyncs: list[str] = []
        client = TravaClient(
            node_a.ws_url, token=lambda: token, timing=TIMING, on_resync=lambda r: resyncs.append(r.room_id)
        )
        async with client:
            chat = client.events(room, types=["message_sent"])
            await client.join(room, timeout=15)
            await _post(node_b.http_url, trip_id, token, "m1")
            texts = await _texts(chat, 1)
            await asyncio.to_thread(node_a.stop)
            for text in ("m2", "m3", "m4"):
                await _post(node_b.http_url, trip_id, token, text)
            await asyncio.to_thread(node_a.start)
            texts += await _texts(chat, 3)
            await _post(node_b.http_url, trip_id, token, "m5")
            texts += await _texts(chat, 1)
            with pytest.raises(TimeoutError):
                await chat.get(timeout=0.5)
            assert client.rooms[room].recovered is True
            assert resyncs == []
            return texts, client

    texts, _ = asyncio.run(scenario())
    assert texts == ["m1", "m2", "m3", "m4", "m5"]


def test_ws_tail_prints_the_events_of_a_live_room(daphne_server) -> None:  # type: ignore[no-untyped-def]
    trip_id, token = _trip_with_owner()
    out, err = StringIO(), StringIO()
    asyncio.run(_post(daphne_server.http_url, trip_id, token, "before tailing"))

    def tail() -> None:
        call_command(
            "ws_tail", f"trip_{trip_id}", "--user", "alice-live", "--url", daphne_server.ws_url,
            "--since", "0", "--max-events", "4", "--timeout", "20", stdout=out, stderr=err,
        )  # fmt: skip

    thread = threading.Thread(target=tail)
    thread.start()

    async def post_once_joined() -> None:
        # The tailer's own arrival in the room (user_joined) is printed once it has joined.
        try:
            await asyncio.wait_for(_until(lambda: "user_joined" in out.getvalue()), 15)
        except TimeoutError:
            raise AssertionError(f"ws_tail did not join: {err.getvalue()!r} {out.getvalue()!r}") from None
        await _post(daphne_server.http_url, trip_id, token, "live")

    asyncio.run(post_once_joined())
    thread.join(30)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    # The owner's member_added (the trip's creation) and the message came from the REST
    # catch-up (--since), then the tailer's own arrival and the live message.
    assert [line["type"] for line in lines] == ["member_added", "message_sent", "user_joined", "message_sent"]
    assert [lines[1]["payload"]["text"], lines[3]["payload"]["text"]] == ["before tailing", "live"]
    assert all(line["roomId"] == f"trip_{trip_id}" for line in lines)
    assert [line["eventId"] for line in lines] == [1, 2, 3, 4], "caught up from 0, then live, in order"
    assert "[caught up: 2 events to #2]" in err.getvalue()


# Django, DRF and simplejwt made unimportable: the client and the tail need only websockets.
WITHOUT_DJANGO = (
    "import runpy, sys\n"
    "for name in ('django', 'rest_framework', 'rest_framework_simplejwt', 'channels', 'daphne'):\n"
    "    sys.modules[name] = None\n"
    "sys.argv = ['python -m realtime.tail', *sys.argv[1:]]\n"
    "runpy.run_module('realtime.tail', run_name='__main__')\n"
)


def test_the_tail_runs_without_django_against_a_live_room(daphne_server) -> None:  # type: ignore[no-untyped-def]
    """`python -m realtime.tail` (what `ws_tail` runs on) in a process where importing
    Django fails: it catches up over REST, joins and prints the live message."""
    trip_id, token = _trip_with_owner()
    asyncio.run(_post(daphne_server.http_url, trip_id, token, "before tailing"))
    process = subprocess.Popen(
        [sys.executable, "-c", WITHOUT_DJANGO, f"trip_{trip_id}", "--token", token,
         "--url", daphne_server.ws_url, "--since", "0", "--max-events", "4", "--timeout", "20"],
        cwd=Path(__file__).resolve().parents[2], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"},
    )  # fmt: skip
    errors: list[str] = []
    reader = threading.Thread(target=lambda: errors.extend(process.stderr))  # type: ignore[arg-type]
    reader.start()

    async def post_once_joined() -> None:
        await asyncio.wait_for(_until(lambda: any("room_joined" in line for line in errors)), 15)
        await _post(daphne_server.http_url, trip_id, token, "live")

    try:
        asyncio.run(post_once_joined())
        out, _ = process.communicate(timeout=30)
    finally:
        process.kill()
        reader.join(5)
    assert process.returncode == 0, "".join(errors)
    lines = [json.loads(line) for line in out.splitlines()]
    assert [line["type"] for line in lines] == ["member_added", "message_sent", "user_joined", "message_sent"]
    assert [lines[1]["payload"]["text"], lines[3]["payload"]["text"]] == ["before tailing", "live"]
    assert not any("Traceback" in line for line in errors), "".join(errors)
