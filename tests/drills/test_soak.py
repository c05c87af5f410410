"""Drill 6: a two-minute soak with connection churn on one node.

Every second a batch of new sockets connects, authenticates and joins a trip room, and
the previous batch goes away (half with a close handshake, half by dropping TCP), while
chat messages flow through the room to steady clients. Asserted:
- the node's RSS (VmRSS) in the second minute stays within RSS_GROWTH_BOUND of the
  first minute's (no per-connection leak: about 600 connections pass through);
- the steady clients got every message, in order, once, without reconnecting;
- at the end the registry's client count for the node equals the live connections, and
  so does the node's own connection count as written by its heartbeat.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import statistics
import time
from pathlib import Path
from typing import Any

import pytest

from tests.drills.conftest import close_all, start_client, start_nodes
from tests.realtime.conftest import join, make_trip, make_user, token_for
from tests.wsclient import WS

CHURN_SECONDS = int(os.environ.get("TRAVA_SOAK_SECONDS", "120"))
BATCH = 5  # sockets connected (and the previous batch dropped) every second
STEADY = 8  # clients that stay for the whole soak
MESSAGES_PER_SECOND = 4
RSS_GROWTH_BOUND = 15 * 1024 * 1024  # bytes: second minute vs first minute

pytestmark = [
    pytest.mark.redis,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(CHURN_SECONDS + 120),
]


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


async def test_two_minute_soak_with_connection_churn(test_database_url: str) -> None:
    (node,) = start_nodes(test_database_url, 1)
    try:
        await _soak(node)
    except BaseException:
        print(f"--- node log:\n{node.log()}")
        raise
    finally:
        node.kill()


async def _soak(node: Any) -> None:
    from realtime.delivery.registry import get_registry

    owner = await make_user()
    steady_users = [await make_user() for _ in range(STEADY)]
    churn_users = [await make_user() for _ in range(BATCH * 2)]  # each at most 2 sockets at once
    trip = await make_trip(owner, *steady_users, *churn_users)
    room = f"trip_{trip.pk}"
    churn_tokens = [await token_for(user) for user in churn_users]
    sender = await start_client(node.ws_url, await token_for(owner))
    steady = [await start_client(node.ws_url, await token_for(user)) for user in steady_users]
    chats = [c.events(room_id=room, types={"message_sent"}) for c in steady]
    await asyncio.gather(*(c.join(room, timeout=15) for c in [sender, *steady]))

    sent: list[int] = []
    stop = asyncio.Event()
    churned = {"opened": 0, "failed": 0}
    samples: list[tuple[float, int]] = []

    async def talk() -> None:
        n = 0
        while not stop.is_set():
            n += 1
            ack = await sender.send_message(room, f"soak {n}", timeout=15)
            sent.append(ack["id"])
            await asyncio.sleep(1 / MESSAGES_PER_SECOND)

    async def open_one(token: str) -> WS | None:
        try:
            # Unbounded receive queue: a churned socket reads nothing past its join, and
            # websockets would otherwise stop reading (and stall its close handshake).
            ws = await WS.connect(node.ws_url, max_queue=None)
            await ws.send("authenticate", {"token": token})
            await ws.expect("authenticated", timeout=10)
            await join(ws, room)
        except Exception:
            churned["failed"] += 1
            return None
        churned["opened"] += 1
        return ws

    async def drop(ws: WS, graceful: bool) -> None:
        if graceful:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(ws.close(), 5)
        else:
            ws.connection.transport.abort()  # no close frame: the server sees the TCP drop

    live: list[WS] = []

    async def churn() -> None:
        nonlocal live
        started = time.monotonic()
        second = 0
        while time.monotonic() - started < CHURN_SECONDS:
            tokens = churn_tokens[(second % 2) * BATCH : (second % 2 + 1) * BATCH]
            fresh = await asyncio.gather(*(open_one(t) for t in tokens))
            old, live = live, [ws for ws in fresh if ws is not None]
            await asyncio.gather(*(drop(ws, graceful=i % 2 == 0) for i, ws in enumerate(old)))
            samples.append((time.monotonic() - started, rss_bytes(node.pid)))
            second += 1
            await asyncio.sleep(max(0.0, started + second - time.monotonic()))

    talker = asyncio.create_task(talk())
    await churn()
    stop.set()
    await asyncio.wait_for(talker, 20)

    # Memory: the second minute against the first (per-second samples).
    half = CHURN_SECONDS / 2
    first = [rss for at, rss in samples if at < half]
    second = [rss for at, rss in samples if at >= half]
    growth = max(second) - max(first)
    print(
        f"soak: {churned['opened']} sockets churned ({churned['failed']} failed), {len(sent)} messages; "
        f"RSS first minute max {max(first) / 2**20:.1f} MiB (median {statistics.median(first) / 2**20:.1f}), "
        f"second minute max {max(second) / 2**20:.1f} MiB: growth {growth / 2**20:+.1f} MiB"
    )
    assert churned["failed"] <= churned["opened"] // 100, churned
    assert churned["opened"] >= BATCH * CHURN_SECONDS * 0.9, churned
    assert growth <= RSS_GROWTH_BOUND, f"RSS grew {growth / 2**20:.1f} MiB in the second minute"

    # Every steady client got every message, in order, once, on its first connection.
    for n, (client, chat) in enumerate(zip(steady, chats, strict=True)):
        events = []
        with contextlib.suppress(TimeoutError):
            while len(events) < len(sent):
                events.append(await chat.get(timeout=15))
        got = [e["payload"]["id"] for e in events]
        missing = sorted(set(sent) - set(got))
        assert got == sent, (
            f"steady client {n}: {len(got)} of {len(sent)} messages, missing {missing[:10]} "
            f"(sent at positions {[sent.index(m) for m in missing[:10]]}), "
            f"connections {client.connections}, disconnects {list(client.disconnects)}"
        )
        ids = [e["eventId"] for e in events]
        assert ids == sorted(set(ids))
        assert client.connections == 1, list(client.disconnects)

    # The registry agrees with what is really connected (dropped sockets included).
    node_id = f"test-node-{node.port}"
    expected = 1 + len(steady) + len(live)
    registry = get_registry()

    async def registry_count() -> int:
        return len([c for c in await registry.list_clients() if c["node"] == node_id])

    count, stats = -1, {}
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # the node's own count lags by one heartbeat
        count = await registry_count()
        stats = {n["nodeId"]: n for n in await registry.nodes()}.get(node_id, {})
        if count == expected and stats.get("connections") == expected:
            break
        await asyncio.sleep(0.5)
    assert count == expected, f"registry: {count} clients on the node, live: {expected}"
    assert stats.get("connections") == expected, f"node stats: {stats.get('connections')}, live: {expected}"

    await asyncio.gather(*(drop(ws, graceful=True) for ws in live))
    await close_all([sender, *steady])
    left = await registry_count()
    deadline = time.monotonic() + 10
    while left and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
        left = await registry_count()
    assert left == 0, f"{left} clients left in the registry after every socket closed"
