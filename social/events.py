"""Social events (protocol.md section 6), sent through trips.events.send_on_commit.

    message_sent -> trip_<tripId>         (REST POST /messages/ and the socket's send_message
                                           both store through chat_message_send: one
                                           post_save, one event; an idempotent resend
                                           stores nothing and sends nothing)
    notification -> user_<recipientId>    (every Notification row created)
    notifications_read -> user_<readerId> {ids, readAt} (the reader's other tabs)
    activity_created | activity_updated -> trip_<tripId>  Activity representation
    activity_deleted -> trip_<tripId>     {id, tripId}
    rsvp_changed -> trip_<tripId>         Rsvp representation (an answer given or changed)

`user_joined` / `user_left` (presence) are sent by realtime itself.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch
from rest_framework.fields import DateTimeField

from events.rooms import user_room
from social.models import Activity, ChatMessage, Notification, Rsvp
from social.serializers import (
    ActivitySerializer,
    ChatMessageSerializer,
    NotificationSerializer,
    RsvpSerializer,
)
from trips.events import Event, represent, send_on_commit, trip_room

MESSAGE_SENT = "message_sent"
NOTIFICATION = "notification"
NOTIFICATIONS_READ = "notifications_read"
ACTIVITY_CREATED = "activity_created"
ACTIVITY_UPDATED = "activity_updated"
ACTIVITY_DELETED = "activity_deleted"
RSVP_CHANGED = "rsvp_changed"


def message_payload(message: ChatMessage) -> dict[str, Any]:
    """A chat message as REST answers it (also the ack of the socket's send_message)."""
    return represent(ChatMessageSerializer, message)


def message_sent(message: ChatMessage) -> None:
    """A chat message is stored once and never changed (the service has no edit): its
    event is built from the saved instance, author loaded, with no read at commit."""

    def build() -> list[Event]:
        return [Event(MESSAGE_SENT, (trip_room(message.trip_id),), message_payload(message))]

    send_on_commit((MESSAGE_SENT, message.pk), build)


def notification_created(notification_id: int) -> None:
    def build() -> list[Event]:
        notification = Notification.objects.filter(pk=notification_id).first()
        if notification is None:
            return []
        payload = represent(NotificationSerializer, notification)
        return [Event(NOTIFICATION, (user_room(notification.recipient_id),), payload)]

    send_on_commit((NOTIFICATION, notification_id), build)


def notifications_read(user_id: int, ids: list[int], read_at: Any) -> None:
    # readAt rendered as REST renders a Notification's readAt.
    payload = {"ids": sorted(ids), "readAt": DateTimeField().to_representation(read_at)}
    event = Event(NOTIFICATIONS_READ, (user_room(user_id),), payload)
    send_on_commit((NOTIFICATIONS_READ, user_id, read_at), lambda: [event], final=True)


def activity_saved(activity_id: int, *, created: bool) -> None:
    type_ = ACTIVITY_CREATED if created else ACTIVITY_UPDATED

    def build() -> list[Event]:
        activity = (
            Activity.objects.select_related("created_by")
            .prefetch_related(Prefetch("rsvps", queryset=Rsvp.objects.select_related("user")))
            .filter(pk=activity_id)
            .first()
        )
        if activity is None:
            return []
        return [Event(type_, (trip_room(activity.trip_id),), represent(ActivitySerializer, activity))]

    send_on_commit((ACTIVITY_CREATED, activity_id), build)


def activity_deleted(activity_id: int, trip_id: int) -> None:
    event = Event(ACTIVITY_DELETED, (trip_room(trip_id),), {"id": activity_id, "tripId": trip_id})
    send_on_commit((ACTIVITY_CREATED, activity_id), lambda: [event], final=True)


def rsvp_changed(rsvp_id: int) -> None:
    def build() -> list[Event]:
        rsvp = Rsvp.objects.select_related("user", "activity").filter(pk=rsvp_id).first()
        if rsvp is None:
            return []
        return [Event(RSVP_CHANGED, (trip_room(rsvp.activity.trip_id),), represent(RsvpSerializer, rsvp))]

    send_on_commit((RSVP_CHANGED, rsvp_id), build)
