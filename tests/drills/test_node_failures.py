"""Drills 1 and 2: three nodes behind nginx (deploy/nginx.conf), clients through nginx.

- kill -9 a node: its clients reconnect through nginx to the others, re-join with
  `since`, and get every chat message committed meanwhile, in order, once; the dead
  node's presence and counts are gone within REGISTRY_TTL.
- SIGTERM a node: its clients get 1012 and are back, on another node, within the
  client's 1012 backoff.
"""

from __future__ import annotations

import asyncio
import collections
import signal
import time
from typing import Any

import httpx
import pytest

from realtime.client import TravaClient
from tests.drills.conftest import (
    CLIENT_TIMING,
    DRILL_NODE_ENV,
    client_for,
    close_all,
    collect,
    ensure_running,
    rejoined,
    wait_for,
)
from tests.realtime.conftest import join, make_trip, make_user, signed_in, token_for

pytestmark = [
    pytest.mark.redis,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(240),
]

CLIENTS = 9  # three per node on average (nginx: least connections)


async def node_of(client: TravaClient) -> str:
    from realtime.delivery.registry import get_registry

    assert client.session is not None
    record = await get_registry().get_client(client.session["clientId"])
    assert record is not None, "the registry does not know a live client"
    return record["node"]


def node_id(node: Any) -> str:
    return f"test-node-{node.port}"  # DaphneNode's NODE_ID


async def room_with_clients(proxy: Any, members: int) -> tuple[Any, str, list[Any], list[TravaClient]]:
    """A trip with an owner and `members` viewers, each with a client through nginx in
    its room; (trip, room, users, clients) with users[0] the owner."""
    users = [await make_user() for _ in range(members + 1)]
    trip = await make_trip(users[0], *users[1:])
    room = f"trip_{trip.pk}"
    clients = [await client_for(proxy.ws_url, user) for user in users]
    await asyncio.gather(*(c.join(room, timeout=15) for c in clients))
    return trip, room, users, clients


async def by_node(clients: list[TravaClient]) -> dict[str, list[TravaClient]]:
    grouped: dict[str, list[TravaClient]] = collections.defaultdict(list)
    for client in clients:
        grouped[await node_of(client)].append(client)
    return grouped


async def post_messages(http: httpx.AsyncClient, trip: Any, token: str, texts: list[str]) -> None:
    for text in texts:
        answer = await http.post(
            f"/api/trips/{trip.pk}/messages/",
            json={"text": text},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert answer.status_code == 201, answer.text


async def test_kill_9_clients_resume_on_other_nodes_and_presence_is_gone(cluster) -> None:
    from realtime.delivery.registry import get_registry

    ensure_running(cluster.nodes)
    trip, room, users, clients = await room_with_clients(cluster, CLIENTS - 1)
    owner_token = await token_for(users[0])
    chats = [c.events(room_id=room, types={"message_sent"}) for c in clients]
    placed = await by_node(clients)
    victim_id = max(placed, key=lambda n: len(placed[n]))
    victim = next(n for n in cluster.nodes if node_id(n) == victim_id)
    doomed = placed[victim_id]
    survivors = [c for node, on in placed.items() if node != victim_id for c in on]
    assert doomed and survivors, (
        f"nginx put every client on one node: { {k: len(v) for k, v in placed.items()} }"
    )
    # A ghost: a plain socket straight on the victim, which will never come back.
    ghost_user = await make_user()
    await _add_member(trip, ghost_user)
    ghost = await signed_in(victim.ws_url, ghost_user)
    await join(ghost, room)
    lefts = survivors[0].events(room_id=room, types={"user_left"})
    registry = get_registry()
    assert any(c["node"] == victim_id for c in await registry.list_clients(user_id=ghost_user.pk))

    async with httpx.AsyncClient(base_url=cluster.http_url, timeout=20) as http:
        await post_messages(http, trip, owner_token, ["before 1", "before 2"])
        victim.kill()  # kill -9: no close frames, no registry cleanup
        killed_at = time.monotonic()
        # Committed while the victim's clients are disconnected (REST through nginx,
        # which skips the dead upstream).
        await post_messages(http, trip, owner_token, [f"while down {n}" for n in range(1, 6)])
        took = await wait_for(
            lambda: all(rejoined(c, room) and c.connections >= 2 for c in doomed),
            timeout=15,
            what="the killed node's clients re-joined through nginx",
        )
        await post_messages(http, trip, owner_token, ["after 1", "after 2"])

    expected = ["before 1", "before 2", *(f"while down {n}" for n in range(1, 6)), "after 1", "after 2"]
    for chat in chats:
        events = await collect(chat, len(expected), timeout=15)
        assert [e["payload"]["text"] for e in events] == expected
        ids = [e["eventId"] for e in events]
        assert ids == sorted(set(ids)), f"out of order or duplicated: {ids}"
    for client in doomed:
        assert client.rooms[room].recovered is True  # replayed from history, no resync needed
        assert await node_of(client) != victim_id
        assert client.disconnects[-1].code == 1006  # a dropped connection, not a close frame
    assert took < 10, took

    # The victim's presence and counts: gone within REGISTRY_TTL of the kill.
    ttl = float(DRILL_NODE_ENV["REGISTRY_TTL"])
    left = await lefts.get(timeout=ttl + 5)
    assert left["payload"]["user"]["id"] == ghost_user.pk
    assert time.monotonic() - killed_at <= ttl + 2.0
    assert await registry.list_clients(user_id=ghost_user.pk) == []
    assert victim_id not in {n["nodeId"] for n in await registry.nodes() if n["alive"]}
    live = await registry.list_clients()
    assert not [c for c in live if c["node"] == victim_id]
    in_room = [c for c in live if room in c["rooms"]]
    assert len(in_room) == len(clients)  # exactly the live clients: nothing left of the dead node
    assert {m["userId"] for m in await registry.members(room)} == {u.pk for u in users}
    await close_all(clients)
    await ghost.close()


async def test_sigterm_clients_get_1012_and_are_back_within_the_backoff(cluster) -> None:
    ensure_running(cluster.nodes)
    trip, room, users, clients = await room_with_clients(cluster, CLIENTS - 1)
    owner_token = await token_for(users[0])
    chats = [c.events(room_id=room, types={"message_sent"}) for c in clients]
    placed = await by_node(clients)
    leaving_id = max(placed, key=lambda n: len(placed[n]))
    leaving = next(n for n in cluster.nodes if node_id(n) == leaving_id)
    moved = placed[leaving_id]

    stopped = asyncio.get_running_loop().run_in_executor(None, leaving.stop, signal.SIGTERM)
    started = time.monotonic()
    took = await wait_for(
        lambda: all(c.connections >= 2 and rejoined(c, room) for c in moved),
        timeout=CLIENT_TIMING.quick_delay + 4,
        what="the stopped node's clients are back",
    )
    assert await stopped == 0  # a clean exit after the drain
    for client in moved:
        closed = client.disconnects[-1]
        assert closed.code == 1012, closed
        assert closed.delay is not None and closed.delay <= CLIENT_TIMING.quick_delay
        assert await node_of(client) != leaving_id
        assert client.rooms[room].recovered is True
    # Back within the 1012 backoff (random 0..quick_delay), plus connect and join time.
    assert took <= CLIENT_TIMING.quick_delay + 2.0, took
    assert time.monotonic() - started < 10

    async with httpx.AsyncClient(base_url=cluster.http_url, timeout=20) as http:
        await post_messages(http, trip, owner_token, ["after the restart"])
    for chat in chats:
        events = await collect(chat, 1, timeout=10)
        assert events[0]["payload"]["text"] == "after the restart"
    await close_all(clients)


async def _add_member(trip: Any, user: Any) -> None:
    from tests.realtime.conftest import db_call
    from trips.models import Role, TripMember

    await db_call(TripMember.objects.create)(trip=trip, user=user, role=Role.VIEWER)
