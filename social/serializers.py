"""Output serializers (request-independent: also the WebSocket event payloads) and input
serializers of chat, notifications, activities and RSVPs."""

from __future__ import annotations

import unicodedata

from rest_framework import serializers

from social.models import MAX_TEXT, Activity, ChatMessage, Notification, Rsvp, RsvpStatus
from trava.accounts.serializers import UserSerializer

MAX_ID = 2**63 - 1


# --- Output -------------------------------------------------------------------------------
class ChatMessageSerializer(serializers.ModelSerializer):
    trip_id = serializers.IntegerField(read_only=True)
    author = UserSerializer(read_only=True, allow_null=True)

    class Meta:
        model = ChatMessage
        fields = ("id", "trip_id", "author", "text", "client_message_id", "created_at")
        read_only_fields = fields


class NotificationSerializer(serializers.ModelSerializer):
    read = serializers.SerializerMethodField()
    data = serializers.DictField(
        read_only=True, help_text="Ids of what it is about, e.g. tripId, activityId, messageId."
    )

    class Meta:
        model = Notification
        fields = ("id", "kind", "message", "data", "read", "read_at", "created_at")
        read_only_fields = fields

    def get_read(self, notification: Notification) -> bool:
        return notification.read_at is not None


class RsvpSerializer(serializers.ModelSerializer):
    activity_id = serializers.IntegerField(read_only=True)
    user = UserSerializer(read_only=True)

    class Meta:
        model = Rsvp
        fields = ("activity_id", "user", "status", "created_at", "updated_at")
        read_only_fields = fields


class ActivitySerializer(serializers.ModelSerializer):
    trip_id = serializers.IntegerField(read_only=True)
    created_by = UserSerializer(read_only=True, allow_null=True)
    rsvps = RsvpSerializer(many=True, read_only=True)

    class Meta:
        model = Activity
        fields = (
            "id",
            "trip_id",
            "title",
            "starts_at",
            "location",
            "created_by",
            "rsvps",
            "created_at",
            "updated_at",
        )
        read_only_fields = fields


# --- Input --------------------------------------------------------------------------------
# Embeddings, overrides and isolates reorder how text is displayed ("Trojan Source"): a
# message could show other words than it holds. The marks LRM, RLM and ALM stay allowed.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# NUL is left to the CharField's own validator (one message for it, not two).
ALLOWED_CONTROLS = frozenset("\t\n\r\x00")


def validate_chat_text(value: str) -> None:
    """Chat text holds no control characters but tab and line breaks, and no bidi
    embedding, override or isolate (DRF's CharField already refuses NUL and surrogates)."""
    for char in value:
        if char in BIDI_CONTROLS:
            raise serializers.ValidationError(
                f"Bidirectional control characters are not allowed: U+{ord(char):04X}."
            )
        if char not in ALLOWED_CONTROLS and unicodedata.category(char) == "Cc":
            raise serializers.ValidationError(f"Control characters are not allowed: U+{ord(char):04X}.")


class ChatMessageInputSerializer(serializers.Serializer):
    """The one validation of a chat message: REST POST /api/trips/<id>/messages/ and the
    socket's `send_message` (social.realtime) both run it."""

    text = serializers.CharField(max_length=MAX_TEXT, validators=[validate_chat_text])
    client_message_id = serializers.CharField(
        max_length=64,
        required=False,
        allow_null=True,
        allow_blank=True,
        help_text="Chosen by the client; a resend with the same id stores nothing new.",
    )


class NotificationsReadSerializer(serializers.Serializer):
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        max_length=1000,
        required=False,
        help_text="Notification ids to mark read; omitted: all of mine.",
    )


class NotificationsReadResultSerializer(serializers.Serializer):
    marked = serializers.IntegerField(help_text="How many notifications were unread and are now read.")


class ActivityInputSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    starts_at = serializers.DateTimeField()
    location = serializers.CharField(max_length=300, allow_blank=True, required=False)


class RsvpInputSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=RsvpStatus.choices)
