"""Chat, notification, activity and RSVP rows -> events (social.events). No business logic
here.

`notifications_read` is sent by social.services.notifications_mark_read: marking read is a
bulk UPDATE (no post_save); the service knows which rows it changed."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save
from django.dispatch import Signal

from social import events
from social.models import Activity, ChatMessage, Notification, Rsvp
from trips.events import deleted_by_cascade
from trips.models import Trip

# sender=Notification, user_id=int, ids=[int, ...] (those now read), read_at=datetime
notifications_read = Signal()


def chat_message_saved(
    sender: type[ChatMessage], instance: ChatMessage, created: bool, raw: bool = False, **kwargs: Any
) -> None:
    if created and not raw:
        events.message_sent(instance)


def notification_saved(
    sender: type[Notification], instance: Notification, created: bool, raw: bool = False, **kwargs: Any
) -> None:
    if created and not raw:
        events.notification_created(instance.pk)


def notifications_marked_read(
    sender: type[Notification], user_id: int, ids: list[int], read_at: Any, **kwargs: Any
) -> None:
    events.notifications_read(user_id, ids, read_at)


def activity_saved(
    sender: type[Activity], instance: Activity, created: bool, raw: bool = False, **kwargs: Any
) -> None:
    if not raw:
        events.activity_saved(instance.pk, created=created)


def activity_deleted(sender: type[Activity], instance: Activity, **kwargs: Any) -> None:
    if not deleted_by_cascade(kwargs.get("origin"), Trip):
        events.activity_deleted(instance.pk, instance.trip_id)


def rsvp_saved(sender: type[Rsvp], instance: Rsvp, created: bool, raw: bool = False, **kwargs: Any) -> None:
    if not raw:
        events.rsvp_changed(instance.pk)


def connect() -> None:
    post_save.connect(chat_message_saved, sender=ChatMessage, dispatch_uid="social.events.message_sent")
    post_save.connect(notification_saved, sender=Notification, dispatch_uid="social.events.notification")
    notifications_read.connect(
        notifications_marked_read, sender=Notification, dispatch_uid="social.events.notifications_read"
    )
    post_save.connect(activity_saved, sender=Activity, dispatch_uid="social.events.activity_saved")
    post_delete.connect(activity_deleted, sender=Activity, dispatch_uid="social.events.activity_deleted")
    post_save.connect(rsvp_saved, sender=Rsvp, dispatch_uid="social.events.rsvp_changed")
