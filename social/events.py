"""Social events (protocol.md section 6), sent through trips.events.send_on_commit.

    message_sent -> trip_<tripId>         (REST POST /messages/ and the socket's send_message
                                           both store through chat_message_send: one
                                           post_save, one event; an idempotent resend
                                           stores nothing and sends nothing)
    notification -> user_<recipientId>    (every Notification row created)

`user_joined` / `user_left` (presence) are sent by realtime itself.
"""

from __future__ import annotations

from typing import Any

from social.models import ChatMessage, Notification
from social.serializers import ChatMessageSerializer, NotificationSerializer
from trips.events import Event, represent, send_on_commit, trip_room, user_room

MESSAGE_SENT = "message_sent"
NOTIFICATION = "notification"


def message_payload(message: ChatMessage) -> dict[str, Any]:
    """A chat message as REST answers it (also the ack of the socket's send_message)."""
    return represent(ChatMessageSerializer, message)


def message_sent(message_id: int) -> None:
    def build() -> list[Event]:
        message = ChatMessage.objects.select_related("author").filter(pk=message_id).first()
        if message is None:
            return []
        return [Event(MESSAGE_SENT, (trip_room(message.trip_id),), message_payload(message))]

    send_on_commit((MESSAGE_SENT, message_id), build)


def notification_created(notification_id: int) -> None:
    def build() -> list[Event]:
        notification = Notification.objects.filter(pk=notification_id).first()
        if notification is None:
            return []
        payload = represent(NotificationSerializer, notification)
        return [Event(NOTIFICATION, (user_room(notification.recipient_id),), payload)]

    send_on_commit((NOTIFICATION, notification_id), build)
