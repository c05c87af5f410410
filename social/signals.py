"""Chat and notification rows -> events (social.events). No business logic here."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_save

from social import events
from social.models import ChatMessage, Notification


def chat_message_saved(
    sender: type[ChatMessage], instance: ChatMessage, created: bool, raw: bool = False, **kwargs: Any
) -> None:
    if created and not raw:
        events.message_sent(instance.pk)


def notification_saved(
    sender: type[Notification], instance: Notification, created: bool, raw: bool = False, **kwargs: Any
) -> None:
    if created and not raw:
        events.notification_created(instance.pk)


def connect() -> None:
    post_save.connect(chat_message_saved, sender=ChatMessage, dispatch_uid="social.events.message_sent")
    post_save.connect(notification_saved, sender=Notification, dispatch_uid="social.events.notification")
