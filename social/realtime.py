"""What social brings to the real-time layer, registered from SocialConfig.ready(): the
socket command `send_message` (protocol.md section 5).

The same `social.services.chat_message_send` as REST POST /api/trips/<id>/messages/, run
by realtime in one worker thread: stored, idempotent per (trip, author,
`clientMessageId`). Its post_save is what sends `message_sent` to `trip_<id>` after the
commit (social.signals), so a message sent either way is announced exactly once, and a
resend that stores nothing announces nothing.

The direct reply is `message_ack` {replyTo: <request id>, payload: <the message as REST
represents it>}: the stored message, so a resend is acked with the ORIGINAL message (same
id). Errors: a text longer than 4000 characters -> `message_too_large` (the schema); a
room that is not a trip room -> `invalid_room`; not a member of the trip (read-only
visitors of a public trip included) -> `room_access_denied`; a text empty after
trimming, or text the REST endpoint's ChatMessageInputSerializer refuses (NUL, control
and bidi override characters) -> `invalid_message`, nothing stored. realtime has already
checked the payload against the schema and that the client is in the room
(`not_in_room`).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError

from events.commands import (
    INVALID_MESSAGE,
    INVALID_ROOM,
    MESSAGE_TOO_LARGE,
    ROOM_ACCESS_DENIED,
    CommandError,
    Field,
    register_command,
)
from events.rooms import MAX_ROOM_ID_LENGTH, parse_room_id
from social.events import message_payload
from social.serializers import MAX_TEXT, ChatMessageInputSerializer
from social.services import chat_message_send
from trips.events import TRIP
from trips.models import Trip

SEND_MESSAGE = "send_message"
MESSAGE_ACK = "message_ack"  # the direct reply: the stored message
MAX_CLIENT_MESSAGE_ID_LENGTH = 64

SEND_MESSAGE_SCHEMA = {
    "roomId": Field((str,), min_length=1, max_length=MAX_ROOM_ID_LENGTH),
    "text": Field((str,), min_length=1, max_length=MAX_TEXT, too_long_code=MESSAGE_TOO_LARGE),
    "clientMessageId": Field((str,), required=False, min_length=1, max_length=MAX_CLIENT_MESSAGE_ID_LENGTH),
}

NOT_A_MEMBER = "Only members of the trip can chat."


def send_message(user: Any, payload: dict[str, Any]) -> dict[str, Any]:
    room = parse_room_id(payload["roomId"])
    if room is None or room.type.name != TRIP:
        raise CommandError(INVALID_ROOM, "Chat messages go to trip rooms.")
    try:  # get(), not first(): no ORDER BY to compile on this hot path
        trip = Trip.objects.get(pk=room.object_id)
    except Trip.DoesNotExist:  # deleted since the join
        raise CommandError(ROOM_ACCESS_DENIED, NOT_A_MEMBER) from None
    # The REST endpoint's own input serializer: the same text is refused both ways.
    data = ChatMessageInputSerializer(
        data={"text": payload["text"], "client_message_id": payload.get("clientMessageId")}
    )
    try:
        if not data.is_valid():
            raise ValidationError([str(m) for messages in data.errors.values() for m in messages])
        message, _created = chat_message_send(
            trip=trip,
            author=user,
            text=data.validated_data["text"],
            client_message_id=data.validated_data.get("client_message_id") or None,
        )
    except PermissionDenied:
        raise CommandError(ROOM_ACCESS_DENIED, NOT_A_MEMBER) from None
    except ValidationError as exc:
        raise CommandError(INVALID_MESSAGE, "; ".join(exc.messages) or "Invalid message.") from None
    return message_payload(message)


def connect() -> None:
    register_command(SEND_MESSAGE, SEND_MESSAGE_SCHEMA, send_message, MESSAGE_ACK, room_field="roomId")
