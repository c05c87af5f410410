"""Every write to chat, notifications, activities and RSVPs.

`chat_message_send` is shared by REST and the WebSocket `send_message`, so it checks the
participation rule itself instead of trusting its caller.
"""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from social.models import (
    MAX_TEXT,
    Activity,
    ChatMessage,
    Notification,
    NotificationKind,
    Rsvp,
    RsvpStatus,
)
from social.signals import notifications_read
from trips.models import Trip, TripMember
from trips.permissions import can_participate_in_trip

# `@name` not preceded by a word character or another `@` (so e-mail addresses do not
# mention anyone). Django usernames may contain letters, digits and @.+-_.
MENTION = re.compile(r"(?<![\w@])@([\w.+-]{1,150})")


def notification_create(
    *, recipient: Any, kind: str, message: str, data: dict[str, Any] | None = None
) -> Notification:
    """One notification. Created one by one (not in bulk) so each fires post_save, which
    the real-time layer maps to a `notification` event in the recipient's room."""
    return Notification.objects.create(recipient=recipient, kind=kind, message=message[:500], data=data or {})


@transaction.atomic
def notifications_mark_read(*, user: Any, ids: list[int] | None = None) -> int:
    """Mark the user's notifications read: those in `ids` (others' ids are ignored), or
    all of them when `ids` is None. Answers how many changed."""
    unread = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if ids is not None:
        unread = unread.filter(pk__in=ids)
    # Locked, so the rows announced are exactly the rows this call marks.
    marked = list(unread.select_for_update().values_list("pk", flat=True))
    if not marked:
        return 0
    now = timezone.now()
    Notification.objects.filter(pk__in=marked).update(read_at=now)
    notifications_read.send(sender=Notification, user_id=user.pk, ids=marked, read_at=now)
    return len(marked)


def _mentioned_members(trip: Trip, text: str, author: Any) -> list[TripMember]:
    names = set()
    for match in MENTION.finditer(text):
        name = match.group(1)
        names.update({name.lower(), name.rstrip(".-+").lower()})
    if not names:
        return []
    members = TripMember.objects.filter(trip=trip).exclude(user=author).select_related("user")
    return [m for m in members if m.user.username.lower() in names]


@transaction.atomic
def chat_message_send(
    *, trip: Trip, author: Any, text: str, client_message_id: str | None = None
) -> tuple[ChatMessage, bool]:
    """Store a chat message and notify the members it mentions. Idempotent per trip,
    author and `client_message_id`: a resend answers `(the first message, False)`."""
    if not can_participate_in_trip(author, trip):
        raise PermissionDenied("Only members of the trip can chat.")
    text = text.strip()
    if not text:
        raise ValidationError({"text": ["Must not be empty."]})
    if len(text) > MAX_TEXT:
        raise ValidationError({"text": [f"At most {MAX_TEXT} characters."]})
    client_message_id = client_message_id or None
    try:
        # Insert first: a new message (nearly every send) costs no lookup. A resend hits
        # the unique index (trip, author, client_message_id) and is answered with the
        # message stored first. The savepoint keeps the caller's transaction usable; on
        # PostgreSQL a concurrent insert of the same id waits for the winner to commit,
        # then fails, and the read below (a new statement, READ COMMITTED) sees it.
        with transaction.atomic():
            message = ChatMessage.objects.create(
                trip=trip, author=author, text=text, client_message_id=client_message_id
            )
    except IntegrityError:
        if client_message_id is not None:
            first = (
                ChatMessage.objects.select_related("author")
                .filter(trip=trip, author=author, client_message_id=client_message_id)
                .first()
            )
            if first is not None:
                return first, False
        raise
    for member in _mentioned_members(trip, text, author):
        notification_create(
            recipient=member.user,
            kind=NotificationKind.MENTION,
            message=f"{author.username} mentioned you in {trip.title}: {text[:200]}",
            data={"trip_id": trip.pk, "message_id": message.pk, "author_id": author.pk},
        )
    return message, True


@transaction.atomic
def activity_create(*, trip: Trip, user: Any, title: str, starts_at: Any, location: str = "") -> Activity:
    """Propose a group activity; every other member of the trip is notified."""
    if not can_participate_in_trip(user, trip):
        raise PermissionDenied("Only members of the trip can propose activities.")
    activity = Activity.objects.create(
        trip=trip, title=title, starts_at=starts_at, location=location, created_by=user
    )
    for member in TripMember.objects.filter(trip=trip).exclude(user=user).select_related("user"):
        notification_create(
            recipient=member.user,
            kind=NotificationKind.ACTIVITY_CREATED,
            message=f"{user.username} proposed {title} in {trip.title}.",
            data={"trip_id": trip.pk, "activity_id": activity.pk},
        )
    return activity


@transaction.atomic
def rsvp_set(*, activity: Activity, user: Any, status: str) -> tuple[Rsvp, bool]:
    """Answer (or change the answer to) an activity; its creator is notified when the
    answer changes. Returns the RSVP and whether it was created."""
    if status not in RsvpStatus.values:
        raise ValidationError({"status": [f"Must be one of {', '.join(RsvpStatus.values)}."]})
    if not can_participate_in_trip(user, activity.trip_id):
        raise PermissionDenied("Only members of the trip can RSVP.")
    rsvp = Rsvp.objects.select_for_update().filter(activity=activity, user=user).first()
    created = rsvp is None
    if rsvp is None:
        rsvp = Rsvp.objects.create(activity=activity, user=user, status=status)
    elif rsvp.status != status:
        rsvp.status = status
        rsvp.save(update_fields=["status", "updated_at"])
    else:
        return rsvp, False
    creator = activity.created_by
    if creator is not None and creator.pk != user.pk:
        notification_create(
            recipient=creator,
            kind=NotificationKind.RSVP,
            message=f"{user.username} answered {status} to {activity.title}.",
            data={
                "trip_id": activity.trip_id,
                "activity_id": activity.pk,
                "user_id": user.pk,
                "status": status,
            },
        )
    return rsvp, created
