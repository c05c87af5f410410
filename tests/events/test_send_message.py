"""`send_message` over the socket (protocol.md section 5): stored through the same service
as REST, `message_sent` to the trip room once, idempotent by clientMessageId (also across
a reconnect), members only."""

from __future__ import annotations

import pytest

from tests.events.conftest import (
    db_call,
    event,
    join,
    listener,
    make_user,
    outsider,
    people,
    signed_in,
    validate_ack,
)

pytestmark = pytest.mark.django_db(transaction=True)


async def _send(ws, room: str, text: str, request_id: str, **extra) -> dict:  # type: ignore[no-untyped-def]
    """The direct reply to one send_message; what arrived before it is kept in ws.before
    (the room's message_sent may overtake the ack: it leaves at the commit)."""
    await ws.send("send_message", {"roomId": room, "text": text, **extra}, id=request_id)
    ws.before = []
    while True:
        message = await ws.recv(timeout=10)
        if message.get("replyTo") == request_id:
            return message
        ws.before.append(message)


@db_call
def _stored(trip_id: int) -> list[int]:
    from social.models import ChatMessage

    return list(ChatMessage.objects.filter(trip_id=trip_id).values_list("pk", flat=True))


async def test_resend_with_one_client_message_id_stores_one_and_acks_the_original(server) -> None:
    trip, (owner, viewer), (owner_api, _) = await people(server)
    room = f"trip_{trip.pk}"
    watcher = await listener(server, viewer, room)
    stranger = await outsider(server, room)
    ws = await listener(server, owner, room)

    ack = await _send(ws, room, "  Boarding now  ", "r1", clientMessageId="m-1")
    assert ack["type"] == "message_ack"
    validate_ack(ack["payload"])
    received = await event(watcher, "message_sent", room)
    assert received["payload"] == ack["payload"]
    assert received["payload"]["text"] == "Boarding now"
    assert received["payload"] == (await owner_api.get(f"/trips/{trip.pk}/messages/"))["results"][0]

    again = await _send(ws, room, "Boarding now", "r2", clientMessageId="m-1")
    assert again["type"] == "message_ack" and again["payload"] == ack["payload"]

    # Across a reconnect (a new connection, the room joined again): still the original.
    await ws.close()
    ws = await listener(server, owner, room)
    third = await _send(ws, room, "Boarding now", "r3", clientMessageId="m-1")
    assert third["payload"]["id"] == ack["payload"]["id"]
    assert await _stored(trip.pk) == [ack["payload"]["id"]]
    # One message_sent in all (the owner's reconnect shows as presence only).
    await watcher.expect("user_joined")
    await watcher.nothing(0.5)
    await stranger.nothing(0.3)


async def test_viewer_may_chat_public_visitor_may_not_nor_outside_the_room(server) -> None:
    trip, (_, viewer), _ = await people(server, public=True)
    room = f"trip_{trip.pk}"
    ws = await listener(server, viewer, room)  # a member with the viewer role
    ack = await _send(ws, room, "Count me in", "v1")
    assert ack["type"] == "message_ack" and ack["payload"]["author"]["id"] == viewer.pk
    assert ack["payload"]["clientMessageId"] is None
    # The actor's own connections get the event too (before or after the ack).
    if not any(m["type"] == "message_sent" for m in ws.before):
        await event(ws, "message_sent", room)

    visitor = await listener(server, await make_user(), room)  # public trip: read-only
    denied = await _send(visitor, room, "Hello?", "x1")
    assert denied["type"] == "error" and denied["payload"]["code"] == "room_access_denied"
    elsewhere = await signed_in(server.ws_url, viewer)  # a second tab, not in the room
    missing = await _send(elsewhere, room, "Hi", "x2")
    assert missing["payload"]["code"] == "not_in_room"
    blank = await _send(ws, room, "   ", "x3")
    assert blank["payload"]["code"] == "invalid_message"
    assert len(await _stored(trip.pk)) == 1
    await visitor.nothing(0.3)  # no message_sent for the refused or invalid sends


async def test_chat_only_in_trip_rooms(server) -> None:
    user = await make_user()
    ws = await signed_in(server.ws_url, user)
    await join(ws, f"user_{user.pk}")
    answer = await _send(ws, f"user_{user.pk}", "note to self", "u1")
    assert answer["payload"]["code"] == "invalid_room"
