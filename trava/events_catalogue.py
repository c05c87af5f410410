"""The server events of protocol.md section 6, declared in one place: for each type, the
output serializer whose REST representation is its payload (so the payload's schema is
that serializer's OpenAPI component in `/api/schema/`), any extra payload keys, and the
rooms it goes to. The event shape tests validate every payload received over a socket
against this. Plain data, no imports of the apps or of realtime.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ACTIONS = ["created", "updated", "deleted"]


@dataclass(frozen=True)
class EventSpec:
    # Dotted path of the output serializer; its OpenAPI component is its class name
    # without the "Serializer" suffix. None: `schema` is given instead.
    serializer: str | None
    rooms: str
    # Extra payload properties besides the representation (JSON Schema), all required.
    extra: dict[str, Any] = field(default_factory=dict)
    # A payload with no REST resource (presence): its JSON Schema, $refs to components.
    schema: dict[str, Any] | None = None

    @property
    def component(self) -> str | None:
        if self.serializer is None:
            return None
        return self.serializer.rsplit(".", 1)[1].removesuffix("Serializer")


_PRESENCE = {
    "type": "object",
    "properties": {"roomId": {"type": "string"}, "user": {"$ref": "#/components/schemas/User"}},
    "required": ["roomId", "user"],
    "additionalProperties": False,
}

EVENTS: dict[str, EventSpec] = {
    # Trip
    "trip_updated": EventSpec("trips.serializers.TripSerializer", "trip"),
    "itinerary_modified": EventSpec(
        "trips.serializers.ItineraryItemSerializer", "trip", extra={"action": {"enum": ACTIONS}}
    ),
    "expense_added": EventSpec("trips.serializers.ExpenseSerializer", "trip"),
    "budget_updated": EventSpec("trips.serializers.BudgetSummarySerializer", "trip"),
    # Photo
    "photo_uploaded": EventSpec("photos.serializers.PhotoSerializer", "album, trip"),
    "photo_commented": EventSpec("photos.serializers.PhotoCommentSerializer", "album, trip"),
    "photo_liked": EventSpec("photos.serializers.PhotoReactionSerializer", "album, trip"),
    "album_updated": EventSpec(
        "photos.serializers.AlbumSerializer", "album, trip", extra={"action": {"enum": ACTIONS}}
    ),
    # Social
    "message_sent": EventSpec("social.serializers.ChatMessageSerializer", "trip"),
    "notification": EventSpec("social.serializers.NotificationSerializer", "user (the recipient)"),
    "user_joined": EventSpec(None, "any room but user rooms (sent by realtime)", schema=_PRESENCE),
    "user_left": EventSpec(None, "any room but user rooms (sent by realtime)", schema=_PRESENCE),
    # Journal
    "journal_entry_created": EventSpec(
        "journals.serializers.JournalEntrySerializer", "journal, user (the author)"
    ),
    "journal_entry_updated": EventSpec(
        "journals.serializers.JournalEntrySerializer", "journal, trip (published only)"
    ),
    "journal_entry_published": EventSpec("journals.serializers.JournalEntrySerializer", "journal, trip"),
    "journal_comment": EventSpec(
        "journals.serializers.JournalCommentSerializer", "journal, trip (entry published only)"
    ),
}

# The direct reply to the socket's send_message (not a room event): the stored message.
MESSAGE_ACK = EventSpec("social.serializers.ChatMessageSerializer", "the sending connection only")


def payload_schema(spec: EventSpec, components: dict[str, Any]) -> dict[str, Any]:
    """The payload's schema in the OpenAPI dialect of `components` (from /api/schema/):
    the serializer's component, with the extra keys added as required properties."""
    if spec.schema is not None:
        return spec.schema
    assert spec.component is not None
    base = components[spec.component]
    if not spec.extra:
        return {"$ref": f"#/components/schemas/{spec.component}"}
    return {
        **base,
        "properties": {**base.get("properties", {}), **spec.extra},
        "required": sorted({*base.get("required", []), *spec.extra}),
    }
