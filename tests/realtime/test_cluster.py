"""Two and three daphne nodes sharing Redis: presence, membership, the per-user cap,
broadcasts, resume, kicks and revocation hold across nodes; a kill -9 leaves no ghosts."""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.realtime.conftest import (
    FAST_REGISTRY,
    db_call,
    join,
    make_trip,
    make_user,
    signed_in,
    staff_broadcast,
    token_for,
)
from tests.realtime.test_resume import _missed_three
from tests.servers import DaphneNode
from tests.wsclient import WS

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def cluster(test_database_url: str):  # type: ignore[no-untyped-def]
    nodes = [DaphneNode(test_database_url, env=FAST_REGISTRY).start() for _ in range(2)]
    yield nodes
    for server in nodes:
        server.kill()


async def test_presence_membership_and_broadcasts_across_nodes(cluster) -> None:
    a, b = cluster
    alice, bob = await make_user(username="c-alice"), await make_user(username="c-bob")
    staff = await make_user(is_staff=True)
    trip = await make_trip(alice, bob)
    room = f"trip_{trip.pk}"
    on_a, on_b = await signed_in(a.ws_url, alice), await signed_in(b.ws_url, bob)
    await join(on_a, room)
    joined = await join(on_b, room)
    assert joined["payload"]["members"] == [
        {"userId": alice.pk, "username": "c-alice"},
        {"userId": bob.pk, "username": "c-bob"},
    ]
    assert (await on_a.expect("user_joined"))["payload"]["user"]["id"] == bob.pk
    # A second tab of bob on node A: no second announcement, members listed once.
    tab = await signed_in(a.ws_url, bob)
    again = await join(tab, room)
    assert [m["userId"] for m in again["payload"]["members"]] == [alice.pk, bob.pk]
    await on_a.nothing(0.3)
    # Idle for longer than redis-py 8's default socket timeout (channels-notes.md): the
    # node channels keep receiving.
    await asyncio.sleep(11)
    admin = await signed_in(a.ws_url, staff)
    event_id = await staff_broadcast(admin, room, "trip_updated", {"title": "B sees it"})
    for socket in (on_b, on_a, tab):
        event = await socket.expect("trip_updated")
        assert event["eventId"] == event_id and event["payload"] == {"title": "B sees it"}
    await on_b.close()
    await on_a.nothing(0.3)  # bob is still in the room in the tab on node A
    await tab.close()
    assert (await on_a.expect("user_left"))["payload"]["user"]["id"] == bob.pk
    await on_a.close()
    await admin.close()


async def test_per_user_cap_holds_across_nodes(cluster) -> None:
    a, b = cluster
    alice = await make_user()
    sockets = [await signed_in((a if n % 2 else b).ws_url, alice) for n in range(10)]
    for server in (a, b):
        async with await WS.connect(server.ws_url) as eleventh:
            await eleventh.send("authenticate", {"token": await token_for(alice)})
            assert await eleventh.closed() == 4029
    await sockets[0].close()
    await asyncio.sleep(0.3)
    sockets[0] = await signed_in(a.ws_url, alice)
    for socket in sockets:
        await socket.close()


async def test_resume_through_another_node(cluster) -> None:
    a, b = cluster
    await _missed_three(a, rejoin_server=b)


async def test_kill_9_leaves_no_ghosts(cluster, daphne_factory) -> None:
    from realtime.delivery.registry import get_registry

    a, _b = cluster
    doomed = daphne_factory(env=FAST_REGISTRY)
    alice, bob = await make_user(username="k-alice"), await make_user(username="k-bob")
    trip = await make_trip(alice, bob)
    room = f"trip_{trip.pk}"
    watcher = await signed_in(a.ws_url, alice)
    await join(watcher, room)
    ghost = await signed_in(doomed.ws_url, bob)
    await join(ghost, room)
    await watcher.expect("user_joined")
    registry = get_registry()
    assert len(await registry.list_clients(user_id=bob.pk)) == 1
    doomed_id = f"test-node-{doomed.port}"  # tests.servers.DaphneNode's NODE_ID
    assert doomed_id in [n["nodeId"] for n in await registry.nodes() if n["alive"]]
    doomed.kill()
    started = time.monotonic()
    left = await watcher.expect("user_left", timeout=10)
    assert left["payload"]["user"] == {"id": bob.pk, "username": "k-bob"}
    assert time.monotonic() - started <= float(FAST_REGISTRY["REGISTRY_TTL"]) + 1.5
    assert await registry.list_clients(user_id=bob.pk) == []
    assert [m["userId"] for m in await registry.members(room)] == [alice.pk]
    assert doomed_id not in [n["nodeId"] for n in await registry.nodes() if n["alive"]]
    await watcher.close()
    await ghost.close()


async def test_removed_member_is_removed_from_the_room_on_every_node(cluster) -> None:
    from trips.models import TripMember

    a, b = cluster
    alice, bob = await make_user(), await make_user()
    trip = await make_trip(alice, bob)
    room = f"trip_{trip.pk}"
    on_a, on_b = await signed_in(a.ws_url, alice), await signed_in(b.ws_url, bob)
    await join(on_a, room)
    await join(on_b, room)
    await on_a.expect("user_joined")
    await db_call(TripMember.objects.filter(trip=trip, user=bob).delete)()
    revoked = await on_b.expect("room_left")
    assert revoked["payload"] == {"roomId": room, "reason": "access_revoked"}
    assert (await on_a.expect("user_left"))["payload"]["user"]["id"] == bob.pk
    await on_b.send("join_room", {"roomId": room})
    assert (await on_b.expect("error"))["payload"]["code"] == "room_access_denied"
    await on_a.close()
    await on_b.close()


async def test_visitors_leave_when_a_public_trip_goes_private(cluster) -> None:
    from trips.models import Trip
    from trips.services import trip_update

    a, b = cluster
    owner, visitor = await make_user(), await make_user()
    trip = await make_trip(owner, public=True)
    room = f"trip_{trip.pk}"
    on_a, on_b = await signed_in(a.ws_url, owner), await signed_in(b.ws_url, visitor)
    await join(on_a, room)
    await join(on_b, room)
    # Through the service (as REST and the admin do): it announces which fields changed.
    await db_call(lambda: trip_update(trip=Trip.objects.get(pk=trip.pk), data={"visibility": "private"}))()
    assert (await on_b.expect("room_left"))["payload"] == {"roomId": room, "reason": "access_revoked"}
    assert (await on_a.expect("user_left"))["payload"]["user"]["id"] == visitor.pk
    await on_a.nothing(0.3)  # the owner keeps the room
    await on_a.close()
    await on_b.close()


async def test_deactivated_user_and_kicked_client_close_4003_on_any_node(cluster) -> None:
    from realtime.cluster.control import akick_client

    a, b = cluster
    alice, bob = await make_user(), await make_user()
    on_a, on_b = await signed_in(a.ws_url, alice), await signed_in(b.ws_url, alice)
    bystander = await signed_in(b.ws_url, bob)
    bob_kicked = await signed_in(a.ws_url, bob)
    assert await akick_client(bob_kicked.client_id)  # type: ignore[attr-defined]
    assert await bob_kicked.closed() == 4003
    alice.is_active = False
    await db_call(alice.save)()
    assert await asyncio.gather(on_a.closed(), on_b.closed()) == [4003, 4003]
    await bystander.send("ping")
    await bystander.expect("pong")
    await bystander.close()


async def test_rooms_come_back_after_redis_loses_its_data(cluster) -> None:
    import redis.asyncio as aioredis
    from django.conf import settings

    a, b = cluster
    alice, staff = await make_user(), await make_user(is_staff=True)
    trip = await make_trip(alice)
    room = f"trip_{trip.pk}"
    member = await signed_in(b.ws_url, alice)
    joined = (await join(member, room))["payload"]
    admin = await signed_in(a.ws_url, staff)
    # "Redis lost its data": delete every key of this suite (never FLUSHALL: shared Redis).
    client = aioredis.Redis.from_url(settings.REDIS_URL)
    keys = [k async for k in client.scan_iter(match=f"{settings.REDIS_PREFIX}:*", count=1000)]
    await client.delete(*keys)
    await client.aclose()
    await asyncio.sleep(1.5)  # a heartbeat notices, re-registers clients, renews groups
    await staff_broadcast(admin, room, "trip_updated", {"after": "loss"})
    event = await member.expect("trip_updated", timeout=5)
    assert event["payload"] == {"after": "loss"}
    await member.send("leave_room", {"roomId": room})
    await member.expect("room_left")
    await member.send("join_room", {"roomId": room, "since": joined["lastEventId"], "epoch": joined["epoch"]})
    answer = await member.expect("room_joined")
    # Redis only held the hot window: the event log still has everything, same epoch.
    assert answer["payload"]["recovered"] is True and answer["payload"]["epoch"] == joined["epoch"]
    await member.close()
    await admin.close()


async def test_sigterm_forgets_the_nodes_clients_at_once(cluster, daphne_factory) -> None:
    import signal

    a, _b = cluster
    leaving = daphne_factory(env=FAST_REGISTRY)
    alice, bob = await make_user(), await make_user()
    trip = await make_trip(alice, bob)
    room = f"trip_{trip.pk}"
    watcher = await signed_in(a.ws_url, alice)
    await join(watcher, room)
    on_leaving = await signed_in(leaving.ws_url, bob)
    await join(on_leaving, room)
    await watcher.expect("user_joined")
    started = time.monotonic()
    stopped = asyncio.get_running_loop().run_in_executor(None, leaving.stop, signal.SIGTERM)
    assert await on_leaving.closed() == 1012
    assert (await watcher.expect("user_left"))["payload"]["user"]["id"] == bob.pk
    assert time.monotonic() - started < 1.5  # the drain, not the registry TTL
    assert await stopped == 0
    await watcher.close()
