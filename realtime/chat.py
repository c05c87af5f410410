"""`send_message` over the socket (protocol.md section 5).

The same `social.services.chat_message_send` as REST POST /api/trips/<id>/messages/, in
one `database_sync_to_async` unit: stored, idempotent per (trip, author,
`clientMessageId`). Its post_save is what sends `message_sent` to `trip_<id>` after the
commit (social.signals), so a message sent either way is announced exactly once, and a
resend that stores nothing announces nothing.

The direct reply is `message_ack` {replyTo: <request id>, payload: <the message as REST
represents it>}: the stored message, so a resend is acked with the ORIGINAL message (same
id). Errors: a room that is not a trip room -> `invalid_room`; not a member of the trip
(read-only visitors of a public trip included) -> `room_access_denied`; a text empty
after trimming, or text the REST endpoint's ChatMessageInputSerializer refuses (NUL,
control and bidi override characters) -> `invalid_message`, nothing stored. The
consumer has already checked the payload and that the client is in the room
(`not_in_room`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from channels.db import database_sync_to_async
from django.core.exceptions import PermissionDenied, ValidationError

from realtime import rooms
from realtime.protocol import MESSAGE_ACK, Err, ProtocolError, Request

if TYPE_CHECKING:
    from realtime.edge.consumer import RealtimeConsumer


@database_sync_to_async
def _send(user: Any, trip_id: int, text: str, client_message_id: str | None) -> dict[str, Any]:
    from social.events import message_payload
    from social.serializers import ChatMessageInputSerializer
    from social.services import chat_message_send
    from trips.models import Trip

    trip = Trip.objects.filter(pk=trip_id).first()
    if trip is None:  # deleted since the join
        raise PermissionDenied("No such trip.")
    # The REST endpoint's own input serializer: the same text is refused both ways.
    data = ChatMessageInputSerializer(data={"text": text, "client_message_id": client_message_id})
    if not data.is_valid():
        raise ValidationError([str(m) for messages in data.errors.values() for m in messages])
    message, _created = chat_message_send(
        trip=trip,
        author=user,
        text=data.validated_data["text"],
        client_message_id=data.validated_data.get("client_message_id") or None,
    )
    return message_payload(message)


async def send_message(session: RealtimeConsumer, request: Request) -> None:
    payload = request.payload
    room = rooms.parse_room_id(payload["roomId"])
    if room is None or room.type.name != "trip":
        raise ProtocolError(Err.INVALID_ROOM, "Chat messages go to trip rooms.")
    try:
        message = await _send(session.user, room.object_id, payload["text"], payload.get("clientMessageId"))
    except PermissionDenied:
        raise ProtocolError(Err.ROOM_ACCESS_DENIED, "Only members of the trip can chat.") from None
    except ValidationError as exc:
        raise ProtocolError(Err.INVALID_MESSAGE, "; ".join(exc.messages) or "Invalid message.") from None
    await session.reply(MESSAGE_ACK, message, request.id)
