"""Querysets already filtered to what a user may see."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet

from social.models import Activity, ChatMessage, Notification, Rsvp
from trips.models import Trip
from trips.permissions import can_view_trip


def chat_message_list(*, trip: Trip) -> QuerySet[ChatMessage]:
    return ChatMessage.objects.filter(trip=trip).select_related("author")


def notification_list(*, user: Any) -> QuerySet[Notification]:
    """The user's own notifications (the pagination orders them unread first)."""
    return Notification.objects.filter(recipient_id=user.pk)


def activity_list(*, trip: Trip) -> QuerySet[Activity]:
    return (
        Activity.objects.filter(trip=trip)
        .select_related("created_by")
        .prefetch_related(Prefetch("rsvps", queryset=Rsvp.objects.select_related("user")))
    )


def activity_get_visible(*, user: Any, activity_id: int) -> Activity | None:
    """The activity if the user may see its trip; None otherwise (404, no leak)."""
    activity = (
        Activity.objects.select_related("trip", "created_by")
        .prefetch_related(Prefetch("rsvps", queryset=Rsvp.objects.select_related("user")))
        .filter(pk=activity_id)
        .first()
    )
    if activity is None or not can_view_trip(user, activity.trip):
        return None
    return activity


def rsvp_list(*, activity: Activity) -> QuerySet[Rsvp]:
    return Rsvp.objects.filter(activity=activity).select_related("user")
