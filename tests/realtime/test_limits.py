"""Errors and policy closes a client can earn (protocol.md section 7)."""

from __future__ import annotations

import asyncio
import json

import pytest

from tests.realtime.conftest import error_code, join, make_trip, make_user, signed_in
from tests.wsclient import WS

pytestmark = pytest.mark.django_db(transaction=True)


async def test_bad_messages_get_invalid_message_and_never_close(node) -> None:
    alice = await make_user()
    async with await signed_in(node.ws_url, alice) as ws:
        for raw in (
            "not json", "[1, 2]", '"text"', "{}", '{"type": 5}', '{"type": ""}',
            '{"type": "ping", "payload": [1]}', '{"type": "join_room", "payload": {"roomId": 7}}',
            '{"type": "join_room", "payload": {}}',
            '{"type": "join_room", "payload": {"roomId": "trip_1", "since": true}}',
            '{"type": "join_room", "payload": {"roomId": "trip_1", "since": -1}}', b"\x00\x01binary",
        ):  # fmt: skip
            await ws.send_raw(raw)
            assert await error_code(ws) == "invalid_message", raw
        await ws.send_raw(json.dumps({"type": "join_room", "payload": {}, "id": "r1"}))
        assert (await ws.expect("error"))["payload"]["replyTo"] == "r1"
        await ws.send("ping")
        await ws.expect("pong")


async def test_unknown_type(node) -> None:
    alice = await make_user()
    async with await signed_in(node.ws_url, alice) as ws:
        await ws.send("launch_rockets", {}, id="u")
        error = await ws.expect("error")
        assert error["payload"]["code"] == "unknown_type" and error["payload"]["replyTo"] == "u"


async def test_chat_text_over_the_limit_is_message_too_large(node) -> None:
    alice = await make_user()
    trip = await make_trip(alice)
    async with await signed_in(node.ws_url, alice) as ws:
        await ws.send("send_message", {"roomId": f"trip_{trip.pk}", "text": "hi"})
        assert await error_code(ws) == "not_in_room"
        await join(ws, f"trip_{trip.pk}")
        await ws.send("send_message", {"roomId": f"trip_{trip.pk}", "text": "x" * 4001})
        assert await error_code(ws) == "message_too_large"


async def test_rate_limited_then_flood_closes_4008(strict_node) -> None:
    alice = await make_user()
    async with await signed_in(strict_node.ws_url, alice) as ws:
        for n in range(12):
            await ws.send("ping", {"n": n})
        answers = [await ws.recv() for _ in range(12)]
        limited = [a for a in answers if a["type"] == "error"]
        assert limited and {a["payload"]["code"] for a in limited} == {"rate_limited"}
        assert all(0 < a["payload"]["retryAfterMs"] <= 1000 for a in limited)
        await asyncio.sleep(1.0)  # the bucket refills: the connection works again
        await ws.send("ping", {"n": "again"})
        assert (await ws.expect("pong"))["payload"] == {"n": "again"}
        for n in range(30):  # keep going past the limit: flooding
            await ws.send("ping", {"n": n})
        assert await ws.closed() == 4008


@pytest.mark.parametrize("size", [64 * 1024 + 1, 3 * 1024 * 1024])
async def test_frames_over_the_size_limit_close_1009(node, size: int) -> None:
    async with await WS.connect(node.ws_url) as ws:
        await ws.send_raw("a" * (64 * 1024))  # exactly the limit is fine
        assert await error_code(ws) == "invalid_message"
        await ws.send_raw("a" * size)
        assert await ws.closed() == 1009


async def test_node_at_max_connections_closes_1013(daphne_factory) -> None:
    server = daphne_factory(env={"WS_MAX_CONNECTIONS": "2"})
    first, second = await WS.connect(server.ws_url), await WS.connect(server.ws_url)
    async with await WS.connect(server.ws_url) as third:
        assert await third.closed() == 1013
    await first.close()
    await asyncio.sleep(0.3)
    async with await WS.connect(server.ws_url) as again:
        await again.send("ping")
        await again.expect("pong")
    await second.close()


async def test_per_user_connection_cap_closes_4029(strict_node) -> None:
    alice = await make_user()
    one, two = await signed_in(strict_node.ws_url, alice), await signed_in(strict_node.ws_url, alice)
    from tests.realtime.conftest import token_for

    async with await WS.connect(strict_node.ws_url) as third:
        await third.send("authenticate", {"token": await token_for(alice)})
        assert await third.closed() == 4029
    await one.close()
    await asyncio.sleep(0.3)
    again = await signed_in(strict_node.ws_url, alice)  # a freed slot is usable again
    await again.close()
    await two.close()


async def test_silent_connections_are_closed(strict_node) -> None:
    alice = await make_user()
    async with (
        await signed_in(strict_node.ws_url, alice) as silent,
        await signed_in(strict_node.ws_url, alice) as chatty,
    ):
        for _ in range(6):
            await asyncio.sleep(0.5)
            await chatty.send("ping")
            await chatty.expect("pong")
        assert await silent.closed(timeout=3) == 1001
        await chatty.send("ping")
        await chatty.expect("pong")
