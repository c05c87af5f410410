"""Drill 3: restart Redis under two nodes (a private redis-server: the shared one on 6379
is never touched).

While Redis is down: no node exits, REST answers 2xx (reads, chat posts, sign-in: the
throttle cache and the on-commit broadcasts must not 500), open WebSockets stay open,
and the events that could not be sent are counted (broadcastFailures), not raised.
After it is back (empty: no persistence): the nodes re-register without a restart, live
events flow again, and what was committed during the outage reaches every connected
client late from the event log (the nodes' catch-up), nothing lost; the rooms keep their
epoch (it lives in the log), and a re-join from before the outage is `recovered: true`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from typing import Any

import httpx
import pytest

from tests.drills.conftest import (
    PrivateRedis,
    client_for,
    close_all,
    collect,
    start_nodes,
    wait_for,
)
from tests.factories import PASSWORD
from tests.realtime.conftest import make_trip, make_user, token_for

pytestmark = [
    pytest.mark.redis,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(240),
]

OUTAGE = 6.0  # seconds Redis stays down


def node_stats(redis_url: str, node_id: str) -> dict[str, Any]:
    """The node's counters as its last heartbeat wrote them (what the admin API sums)."""
    import redis
    from django.conf import settings

    client = redis.Redis.from_url(redis_url, socket_timeout=5, decode_responses=True)
    try:
        raw = client.hgetall(f"{settings.REDIS_PREFIX}:rt:node:{node_id}")
    finally:
        client.close()
    out: dict[str, Any] = {}
    for name, value in raw.items():
        try:
            out[name] = json.loads(value)
        except ValueError:
            out[name] = value
    return out


async def test_redis_restart(test_database_url: str, private_redis: PrivateRedis) -> None:
    nodes = start_nodes(test_database_url, 2, env={"REDIS_URL": private_redis.url})
    try:
        await _drill(nodes, private_redis)
    except BaseException:
        for node in nodes:
            print(f"--- node {node.port} log:\n{node.log()}")
        raise
    finally:
        for node in nodes:
            node.kill()


async def _drill(nodes: list[Any], private_redis: PrivateRedis) -> None:
    a, b = nodes
    alice, bob = await make_user(), await make_user()
    trip = await make_trip(alice, bob)
    room = f"trip_{trip.pk}"
    token = await token_for(alice)
    auth = {"Authorization": f"Bearer {token}"}
    on_a, on_b = await client_for(a.ws_url, alice), await client_for(b.ws_url, bob)
    clients = [on_a, on_b]
    chats = [c.events(room_id=room, types={"message_sent"}) for c in clients]
    resyncs = [c.events(room_id=room, types={"resync"}) for c in clients]
    await asyncio.gather(*(c.join(room, timeout=15) for c in clients))
    epoch_before = on_b.rooms[room].epoch

    async def rest_round(http_a: httpx.AsyncClient, http_b: httpx.AsyncClient, text: str) -> None:
        """Every kind of request the outage could break, on both nodes: all 2xx."""
        for http in (http_a, http_b):
            read = await http.get(f"/api/trips/{trip.pk}/", headers=auth)
            assert read.status_code == 200, read.text
            me = await http.get("/api/auth/me/", headers=auth)
            assert me.status_code == 200, me.text
            login = await http.post(
                "/api/auth/token/", json={"username": alice.username, "password": PASSWORD}
            )
            assert login.status_code == 200, login.text  # the throttle counts in the Redis cache
        sent = await http_a.post(f"/api/trips/{trip.pk}/messages/", json={"text": text}, headers=auth)
        assert sent.status_code == 201, sent.text  # committed; its event is dropped and counted

    async with (
        httpx.AsyncClient(base_url=a.http_url, timeout=20) as http_a,
        httpx.AsyncClient(base_url=b.http_url, timeout=20) as http_b,
    ):
        await rest_round(http_a, http_b, "before")
        for chat in chats:
            assert [e["payload"]["text"] for e in await collect(chat, 1, timeout=10)] == ["before"]
        failures_before = node_stats(private_redis.url, f"test-node-{a.port}").get("broadcastFailures", 0)

        private_redis.stop()
        down_at = time.monotonic()
        sent_while_down = 0
        while time.monotonic() - down_at < OUTAGE:
            await rest_round(http_a, http_b, f"while down {sent_while_down}")
            sent_while_down += 1
            for client in clients:  # the sockets stay open: ping answered
                assert client.state == "open"
                assert await client.send("ping", {"n": sent_while_down})
            await asyncio.sleep(0.5)
        assert all(node.process.poll() is None for node in nodes), "a node exited while Redis was down"
        private_redis.start()

        # Live events flow again, without restarting any node.
        async def delivered() -> bool:
            answer = await http_a.post(
                f"/api/trips/{trip.pk}/messages/", json={"text": "probe"}, headers=auth
            )
            assert answer.status_code == 201, answer.text
            await asyncio.sleep(0.5)
            return True

        deadline = time.monotonic() + 20
        got: list[list[str]] = [[], []]
        while time.monotonic() < deadline and not all(got):
            await delivered()
            for index, chat in enumerate(chats):
                while True:
                    try:
                        got[index].append((await chat.get(timeout=0.01))["payload"]["text"])
                    except TimeoutError:
                        break
        assert all(got), f"no live event reached every client after Redis came back: {got}"
        # What was committed during the outage arrives late, from the log: nothing lost.
        missed = {f"while down {n}" for n in range(sent_while_down)}
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and not all(missed <= set(texts) for texts in got):
            for index, chat in enumerate(chats):
                with contextlib.suppress(TimeoutError):
                    got[index].append((await chat.get(timeout=0.2))["payload"]["text"])
        assert all(missed <= set(texts) for texts in got), (sorted(missed), got)
        for texts in got:  # and once each
            distinct = [text for text in texts if text != "probe"]
            assert len(distinct) == len(set(distinct)), texts
        await rest_round(http_a, http_b, "after")
        for chat in chats:
            texts = [e["payload"]["text"] for e in await collect_until(chat, "after", timeout=10)]
            assert texts[-1] == "after"

    # The room kept its epoch (it lives in the event log): nobody was told to re-read, and
    # a re-join from before the outage replays exactly.
    for client, resync in zip(clients, resyncs, strict=True):
        with pytest.raises(TimeoutError):
            await resync.get(timeout=0.2)
        await client.leave(room)
        await client.join(room, since=3, epoch=epoch_before, timeout=10)
        state = client.rooms[room]
        assert state.recovered is True and state.epoch == epoch_before

    # No node crashed or restarted; the outage's events were counted as failed broadcasts.
    assert all(node.process.poll() is None for node in nodes)
    node_a = f"test-node-{a.port}"
    await wait_for(
        lambda: (
            node_stats(private_redis.url, node_a).get("broadcastFailures", 0)
            >= failures_before + sent_while_down
        ),
        timeout=10,
        what="the outage's events counted in broadcastFailures",
    )
    async with httpx.AsyncClient(timeout=10) as http:
        for node in nodes:
            ready = await http.get(f"{node.http_url}/readyz")
            assert ready.status_code == 200, ready.text
    await close_all(clients)


async def collect_until(chat: Any, text: str, timeout: float) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while not events or events[-1]["payload"]["text"] != text:
        events.append(await chat.get(timeout=max(0.01, deadline - time.monotonic())))
    return events
