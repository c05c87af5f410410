"""Concurrent broadcasts to one room from one node reach its members in eventId order.

Found by the soak drill: clients drop an event whose id is not above the last one they
have (as a duplicate), so an inversion between two concurrent broadcasts lost the earlier
event for every member. Eight staff sockets fire 25 events each at once through the test
hook; a member must see all 200, strictly increasing.
"""

from __future__ import annotations

import asyncio
import itertools

import pytest

from tests.drills.conftest import start_nodes
from tests.realtime.conftest import join, make_trip, make_user, signed_in

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True), pytest.mark.timeout(120)]

SENDERS, EACH = 8, 25  # within the per-connection burst (WS_RATE_BURST 30)


async def test_concurrent_broadcasts_to_one_room_arrive_in_order(test_database_url: str) -> None:
    (node,) = start_nodes(test_database_url, 1)
    try:
        owner = await make_user()
        trip = await make_trip(owner)
        room = f"trip_{trip.pk}"
        member = await signed_in(node.ws_url, owner)
        await join(member, room)
        # Unbounded receive queues: the senders never read their acks, and a full queue
        # would stall their close handshakes.
        senders = [
            await signed_in(node.ws_url, await make_user(is_staff=True), max_queue=None)
            for _ in range(SENDERS)
        ]

        async def fire(ws) -> None:  # type: ignore[no-untyped-def]
            for n in range(EACH):
                await ws.send("test_broadcast", {"roomId": room, "type": "trip_updated", "payload": {"n": n}})

        await asyncio.gather(*(fire(ws) for ws in senders))
        ids: list[int] = []
        while len(ids) < SENDERS * EACH:
            message = await member.recv(timeout=15)
            if message.get("type") == "trip_updated":
                ids.append(message["eventId"])
        assert ids == sorted(set(ids)), (
            f"inverted: {[(a, b) for a, b in itertools.pairwise(ids) if b < a][:10]}"
        )
        await asyncio.gather(*(ws.close() for ws in (member, *senders)))
    finally:
        node.kill()
