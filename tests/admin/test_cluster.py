"""The admin API over two daphne nodes sharing Redis: either node answers for both, kicks
a client on the other, and broadcasts reach both; a node killed with -9 stops counting
within the registry TTL and is shown as gone, its clients' records marked lost."""

from __future__ import annotations

import time

import pytest

from tests.admin.conftest import AdminClient, eventually, node_entry, record_of
from tests.realtime.conftest import FAST_REGISTRY, join, make_trip, make_user, signed_in
from tests.servers import DaphneNode

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def pair(test_database_url: str):  # type: ignore[no-untyped-def]
    nodes = [DaphneNode(test_database_url, env=FAST_REGISTRY).start() for _ in range(2)]
    yield nodes
    for server in nodes:
        server.kill()


async def test_either_node_sees_kicks_and_broadcasts_across_both(pair) -> None:
    a, b = pair
    staff = await make_user(is_staff=True)
    alice, bob, carol = await make_user(), await make_user(), await make_user()
    trip = await make_trip(alice, bob)
    room = f"trip_{trip.pk}"
    on_a = await signed_in(a.ws_url, alice)
    on_b, carol_b = await signed_in(b.ws_url, bob), await signed_in(b.ws_url, carol)
    await join(on_a, room)
    await join(on_b, room)
    via_a, via_b = await AdminClient.of(a, staff), await AdminClient.of(b, staff)

    async def both_counted() -> dict:
        stats = await via_a.stats()
        assert node_entry(stats, a)["connections"] == 1 and node_entry(stats, b)["connections"] == 2
        assert node_entry(stats, a)["alive"] and node_entry(stats, b)["status"] == "alive"
        return stats

    stats = await eventually(both_counted)
    assert stats["connections"]["authenticated"] >= 3 and stats["nodesAlive"] >= 2
    for admin in (via_a, via_b):
        clients = {c["clientId"]: c["node"] for c in (await admin.get("/clients"))["results"]}
        assert clients[on_a.client_id] == f"test-node-{a.port}"
        assert clients[on_b.client_id] == clients[carol_b.client_id] == f"test-node-{b.port}"
        info = await admin.get(f"/rooms/{room}")
        assert {m["userId"]: m["clientIds"] for m in info["members"]} == {
            alice.pk: [on_a.client_id],
            bob.pk: [on_b.client_id],
        }
        detail = await admin.get(f"/clients/{on_b.client_id}")
        assert detail["node"] == f"test-node-{b.port}" and room in detail["rooms"]

    # Kick through node A a client that is connected to node B.
    kicked = await via_a.http.delete(f"/api/websocket/clients/{on_b.client_id}")
    assert kicked.status_code == 202 and kicked.json()["node"] == f"test-node-{b.port}"
    assert await on_b.closed() == 4003

    sent = await via_b.http.post("/api/websocket/broadcast", json={"message": "Hello all", "type": "info"})
    assert sent.status_code == 202 and sent.json()["recipients"] >= 2
    for socket in (on_a, carol_b):
        assert (await socket.expect("notification"))["payload"] == {"kind": "info", "message": "Hello all"}

    sent = await via_b.http.post(
        "/api/websocket/broadcast/room", json={"roomId": room, "message": "Room only"}
    )
    assert sent.status_code == 202 and sent.json() == {"recipients": 1}
    assert (await on_a.expect("notification"))["payload"]["message"] == "Room only"
    await carol_b.nothing(0.5)
    for closing in (on_a, carol_b, via_a, via_b):
        await closing.close()


async def test_killed_node_stops_counting_within_the_ttl(pair, daphne_factory) -> None:
    a, _b = pair
    doomed = daphne_factory(env=FAST_REGISTRY)
    staff, dave = await make_user(is_staff=True), await make_user()
    admin = await AdminClient.of(a, staff)
    ghost = await signed_in(doomed.ws_url, dave)

    async def counted() -> None:
        stats = await admin.stats()
        assert node_entry(stats, doomed)["connections"] == 1
        assert [c["clientId"] for c in (await admin.get("/clients", user=str(dave.pk)))["results"]] == [
            ghost.client_id
        ]

    await eventually(counted)
    doomed.kill()
    killed_at = time.monotonic()

    async def gone() -> dict:
        stats = await admin.stats()
        entry = node_entry(stats, doomed)
        assert not entry["alive"] and entry["status"] in {"dead", "gone"}
        assert (await admin.get("/clients", user=str(dave.pk)))["results"] == []
        return stats

    await eventually(gone, timeout=float(FAST_REGISTRY["REGISTRY_TTL"]) + 2)
    assert time.monotonic() - killed_at <= float(FAST_REGISTRY["REGISTRY_TTL"]) + 1.5

    async def swept() -> None:  # the sweep of a survivor removes it: listed as gone
        assert node_entry(await admin.stats(), doomed)["status"] == "gone"

    await eventually(swept, timeout=float(FAST_REGISTRY["REGISTRY_TTL"]) + 2)
    record = await record_of(ghost.client_id)
    assert record.lost and record.close_code is None and record.user_id == dave.pk
    assert record.node == f"test-node-{doomed.port}"
    await admin.close()
