"""Test hooks of the realtime protocol: test code, loaded by a node only when its settings
name them in WS_EXTRA_HANDLERS (trava/settings_test.py does; production never does)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from realtime.delivery.broadcast import abroadcast
from realtime.protocol import (
    MAX_ROOM_ID_LENGTH,
    MAX_TYPE_LENGTH,
    Err,
    Field,
    ProtocolError,
    Request,
    check_fields,
)

if TYPE_CHECKING:
    from realtime.session import Session

TEST_BROADCAST = "test_broadcast"
TEST_BROADCAST_SCHEMA = {
    "roomId": Field((str,), min_length=1, max_length=MAX_ROOM_ID_LENGTH),
    "type": Field((str,), min_length=1, max_length=MAX_TYPE_LENGTH),
    "payload": Field((dict,)),
}


async def test_broadcast(session: Session, request: Request) -> None:
    """A staff client makes this node broadcast `{roomId, type, payload}` as a room event;
    answered `test_broadcast_ack {eventId}`. Anyone else: an unknown type, as without it."""
    if not session.user.is_staff:
        raise ProtocolError(Err.UNKNOWN_TYPE, f"Unknown message type {TEST_BROADCAST!r}.")
    check_fields(TEST_BROADCAST_SCHEMA, request.payload)
    payload = request.payload
    # Made-up events: logged and sent like any, without the catalogue's schema check.
    event_id = await abroadcast(payload["roomId"], payload["type"], payload["payload"], checked=False)
    await session.reply("test_broadcast_ack", {"eventId": event_id}, request.id)
