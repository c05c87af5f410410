"""`send_message` idempotency under concurrency over the socket, on two nodes (Redis):
one user's two sockets, one on each node, send the same clientMessageId at the same
moment; one message is stored, both are acked with it, the room hears `message_sent` once."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.events.conftest import db_call, event, listener, people
from tests.wsclient import WS

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]

ROUNDS = 5  # races per test: each round a fresh clientMessageId, both sockets at once


async def _send(ws: WS, room: str, text: str, request_id: str, **extra: Any) -> dict[str, Any]:
    """The direct reply to one send_message; what arrived before it is kept in ws.before."""
    await ws.send("send_message", {"roomId": room, "text": text, **extra}, id=request_id)
    ws.before = []  # type: ignore[attr-defined]
    while True:
        message = await ws.recv(timeout=10)
        if message.get("replyTo") == request_id:
            return message
        ws.before.append(message)  # type: ignore[attr-defined]


async def _drain(ws: WS, quiet: float = 1.0) -> list[dict[str, Any]]:
    """Every message until `quiet` seconds pass without one."""
    received = []
    while True:
        try:
            received.append(await ws.recv(timeout=quiet))
        except TimeoutError:
            return received


@db_call
def _stored(trip_id: int) -> list[tuple[int, str]]:
    from social.models import ChatMessage

    return list(
        ChatMessage.objects.filter(trip_id=trip_id).order_by("pk").values_list("pk", "client_message_id")
    )


async def test_one_user_on_two_nodes_sends_one_client_message_id_at_once_and_one_message_is_stored(
    daphne_factory,
) -> None:  # type: ignore[no-untyped-def]
    a, b = daphne_factory(), daphne_factory()
    trip, (owner, viewer), _ = await people(a)
    room = f"trip_{trip.pk}"
    on_a, on_b = await listener(a, owner, room), await listener(b, owner, room)
    watcher = await listener(b, viewer, room)
    await _drain(watcher, quiet=0.5)  # the owner's presence

    ids = []
    for n in range(ROUNDS):
        key = f"race-{n}"
        first, second = await asyncio.gather(
            _send(on_a, room, f"Boarding {n}", f"a{n}", clientMessageId=key),
            _send(on_b, room, f"Boarding {n}", f"b{n}", clientMessageId=key),
        )
        assert first["type"] == second["type"] == "message_ack", (first, second)
        assert first["payload"] == second["payload"]
        assert first["payload"]["clientMessageId"] == key
        ids.append(first["payload"]["id"])
        sent = await event(watcher, "message_sent", room)
        assert sent["payload"]["id"] == first["payload"]["id"]
        # Exactly one message_sent: none more on the watcher, one on each of the sockets.
        assert not [m for m in await _drain(watcher, quiet=0.5) if m["type"] == "message_sent"]
        for ws in (on_a, on_b):
            heard = ws.before + await _drain(ws, quiet=0.2)  # type: ignore[attr-defined]
            assert [m["payload"]["id"] for m in heard if m["type"] == "message_sent"] == [ids[-1]]
    assert await _stored(trip.pk) == [(pk, f"race-{n}") for n, pk in enumerate(ids)]
    for ws in (on_a, on_b, watcher):
        await ws.close()
