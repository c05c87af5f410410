"""Chat, notifications and group activities. Built on trips; trips never imports this."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from trips.models import Trip

# Longest chat message, in characters (the column, the serializer and the service).
MAX_TEXT = 4_000


class ChatMessage(models.Model):
    trip = models.ForeignKey(Trip, on_delete=models.CASCADE, related_name="chat_messages")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    text = models.TextField(max_length=MAX_TEXT)
    # Chosen by the client so a resend after a reconnect is recognised (idempotent send).
    client_message_id = models.CharField(max_length=64, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("-created_at", "-id")
        indexes = [models.Index(fields=("trip", "-created_at", "-id"), name="chat_trip_newest")]
        constraints = [
            models.UniqueConstraint(
                fields=("trip", "author", "client_message_id"),
                condition=Q(client_message_id__isnull=False),
                name="chat_client_message_id_unique",
            ),
            models.CheckConstraint(condition=~Q(text=""), name="chat_text_not_empty"),
        ]

    def __str__(self) -> str:
        return f"{self.author_id} in {self.trip_id}: {self.text[:40]}"


class NotificationKind(models.TextChoices):
    TRIP_MEMBER_ADDED = "trip_member_added", "Added to a trip"
    TRIP_ROLE_CHANGED = "trip_role_changed", "Role in a trip changed"
    ACTIVITY_CREATED = "activity_created", "Activity created"
    RSVP = "rsvp", "RSVP to your activity"
    MENTION = "mention", "Mentioned in chat"
    PHOTO_COMMENT = "photo_comment", "Comment on your photo"
    PHOTO_REACTION = "photo_reaction", "Reaction to your photo"
    JOURNAL_COMMENT = "journal_comment", "Comment on your journal entry"


class Notification(models.Model):
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=32, choices=NotificationKind.choices)
    message = models.CharField(max_length=500)
    # Ids of what the notification is about (snake_case keys: camelCased on the wire).
    data = models.JSONField(default=dict, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("-created_at", "-id")
        indexes = [models.Index(fields=("recipient", "read_at", "-created_at"), name="notification_inbox")]

    def __str__(self) -> str:
        return f"{self.kind} for {self.recipient_id}"


class Activity(models.Model):
    trip = models.ForeignKey(Trip, on_delete=models.CASCADE, related_name="activities")
    title = models.CharField(max_length=200)
    starts_at = models.DateTimeField()
    location = models.CharField(max_length=300, blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("starts_at", "id")
        verbose_name_plural = "activities"
        indexes = [models.Index(fields=("trip", "starts_at"), name="activity_trip_starts_at")]

    def __str__(self) -> str:
        return self.title


class RsvpStatus(models.TextChoices):
    GOING = "going", "Going"
    MAYBE = "maybe", "Maybe"
    DECLINED = "declined", "Declined"


class Rsvp(models.Model):
    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="rsvps")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=10, choices=RsvpStatus.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("activity", "created_at", "id")
        verbose_name = "RSVP"
        constraints = [
            models.UniqueConstraint(fields=("activity", "user"), name="rsvp_one_per_user"),
            models.CheckConstraint(condition=Q(status__in=RsvpStatus.values), name="rsvp_status_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.status} {self.activity_id}"
