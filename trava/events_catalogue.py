"""The server events of protocol.md section 6, declared in one place: for each type, the
output serializer whose REST representation is its payload (so the payload's schema is
that serializer's OpenAPI component in `/api/schema/`), any extra payload keys, and the
rooms it goes to. The event shape tests validate every payload received over a socket
against this. Plain data, no imports of the apps or of realtime.
"""

from __future__ import annotations

import copy
import logging
from dataclasses import dataclass, field
from typing import Any

import jsonschema
from django.conf import settings
from drf_spectacular.generators import SchemaGenerator

logger = logging.getLogger("trava.events")

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

ROLES = ["owner", "editor", "viewer"]


def _ids(*names: str, **more: dict[str, Any]) -> dict[str, Any]:
    """A deletion's or removal's payload: the ids a client needs to drop the thing."""
    properties = {**{name: {"type": "integer"} for name in names}, **more}
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties),
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
    # --- The complete live model (protocol.md 9.2) ---
    # Trip
    "trip_created": EventSpec("trips.serializers.TripSerializer", "user (the creator)"),
    "trip_deleted": EventSpec(None, "trip (its members when it was deleted)", schema=_ids("id")),
    "member_added": EventSpec("trips.serializers.TripMemberSerializer", "trip"),
    "member_removed": EventSpec(None, "trip", schema=_ids("tripId", "userId")),
    "member_role_changed": EventSpec(
        "trips.serializers.TripMemberSerializer", "trip", extra={"previousRole": {"enum": ROLES}}
    ),
    "expense_updated": EventSpec("trips.serializers.ExpenseSerializer", "trip"),
    "expense_deleted": EventSpec(None, "trip", schema=_ids("id", "tripId")),
    "activity_created": EventSpec("social.serializers.ActivitySerializer", "trip"),
    "activity_updated": EventSpec("social.serializers.ActivitySerializer", "trip"),
    "activity_deleted": EventSpec(None, "trip", schema=_ids("id", "tripId")),
    "rsvp_changed": EventSpec("social.serializers.RsvpSerializer", "trip"),
    # Photo
    "photo_updated": EventSpec("photos.serializers.PhotoSerializer", "album, trip"),
    "photo_deleted": EventSpec(None, "album, trip", schema=_ids("id", "albumId", "tripId")),
    "photo_unliked": EventSpec(
        None,
        "album, trip",
        schema=_ids("id", "photoId", "albumId", "tripId", "userId", emoji={"type": "string"}),
    ),
    "photo_comment_deleted": EventSpec(
        None, "album, trip", schema=_ids("id", "photoId", "albumId", "tripId")
    ),
    # Journal
    "journal_entry_deleted": EventSpec(
        None,
        "journal (its readers when it was deleted), trip (published only), user (the author)",
        schema=_ids("id", tripId={"type": "integer", "nullable": True}),
    ),
    "journal_comment_deleted": EventSpec(
        None,
        "journal, trip (entry published only)",
        schema=_ids("id", "entryId", tripId={"type": "integer", "nullable": True}),
    ),
    # Personal
    "notifications_read": EventSpec(
        None,
        "user (the reader: their other tabs)",
        schema={
            "type": "object",
            "properties": {
                "ids": {"type": "array", "items": {"type": "integer"}},
                "readAt": {"type": "string", "format": "date-time"},
            },
            "required": ["ids", "readAt"],
            "additionalProperties": False,
        },
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


# --- Every REST write and what it announces (protocol.md 9.2) --------------------------------
# Each write operation of /api/schema/ ("METHOD /path/template") maps to the event types it
# sends to the rooms of what it changed (an operation that changes nothing sends nothing:
# an idempotent repeat), or to a declaration: PRIVATE (announced to the caller's own
# `user_<id>` room only, listed with its events) or EXEMPT (no resource state to announce;
# the reason says why). tests/events/test_catalogue.py checks this against the live schema,
# so a new endpoint without an entry fails CI.
@dataclass(frozen=True)
class Writes:
    events: tuple[str, ...] = ()
    private: bool = False  # the caller's user_<id> room only (their other tabs)
    exempt: str = ""  # why it announces nothing


def _w(*events: str) -> Writes:
    return Writes(events)


_NO_STATE_AUTH = "authentication: issues or changes credentials, no resource state to announce"
_WS_ADMIN = "staff WebSocket admin API: it acts on connections and rooms directly, not on resources"

WRITE_OPERATIONS: dict[str, Writes] = {
    # Auth
    "POST /api/auth/register/": Writes(exempt=_NO_STATE_AUTH + " (a new account has no room yet)"),
    "POST /api/auth/token/": Writes(exempt=_NO_STATE_AUTH),
    "POST /api/auth/token/refresh/": Writes(exempt=_NO_STATE_AUTH),
    "POST /api/auth/password/": Writes(exempt=_NO_STATE_AUTH),
    # Trips
    "POST /api/trips/": Writes(("trip_created", "member_added"), private=True),
    "PATCH /api/trips/{trip_id}/": _w("trip_updated", "budget_updated"),
    "DELETE /api/trips/{trip_id}/": _w("trip_deleted"),
    "PATCH /api/trips/{trip_id}/budget/": _w("trip_updated", "budget_updated"),
    "POST /api/trips/{trip_id}/members/": _w("member_added", "notification"),
    "PATCH /api/trips/{trip_id}/members/{user_id}/": _w("member_role_changed", "notification"),
    "DELETE /api/trips/{trip_id}/members/{user_id}/": _w("member_removed"),
    "POST /api/trips/{trip_id}/itinerary/": _w("itinerary_modified"),
    "PATCH /api/trips/{trip_id}/itinerary/{item_id}/": _w("itinerary_modified"),
    "DELETE /api/trips/{trip_id}/itinerary/{item_id}/": _w("itinerary_modified"),
    "POST /api/trips/{trip_id}/itinerary/reorder/": _w("itinerary_modified"),
    "POST /api/trips/{trip_id}/expenses/": _w("expense_added", "budget_updated"),
    "PATCH /api/trips/{trip_id}/expenses/{expense_id}/": _w("expense_updated", "budget_updated"),
    "DELETE /api/trips/{trip_id}/expenses/{expense_id}/": _w("expense_deleted", "budget_updated"),
    # Social
    "POST /api/trips/{trip_id}/messages/": _w("message_sent", "notification"),
    "POST /api/trips/{trip_id}/activities/": _w("activity_created", "notification"),
    "POST /api/activities/{activity_id}/rsvp/": _w("rsvp_changed", "notification"),
    "POST /api/notifications/read/": Writes(("notifications_read",), private=True),
    # Photos
    "POST /api/trips/{trip_id}/albums/": _w("album_updated"),
    "PATCH /api/albums/{album_id}/": _w("album_updated"),
    "DELETE /api/albums/{album_id}/": _w("album_updated"),
    "POST /api/albums/{album_id}/photos/": _w("photo_uploaded", "album_updated"),
    "PATCH /api/photos/{photo_id}/": _w("photo_updated"),
    "DELETE /api/photos/{photo_id}/": _w("photo_deleted", "album_updated"),
    "POST /api/photos/{photo_id}/comments/": _w("photo_commented", "notification"),
    "POST /api/photos/{photo_id}/reactions/": _w("photo_liked", "notification"),
    "DELETE /api/photos/{photo_id}/reactions/": _w("photo_unliked"),
    # Journals
    "POST /api/journals/": _w("journal_entry_created"),
    "PATCH /api/journals/{entry_id}/": _w("journal_entry_updated"),
    "DELETE /api/journals/{entry_id}/": _w("journal_entry_deleted"),
    "POST /api/journals/{entry_id}/publish/": _w("journal_entry_published"),
    "POST /api/journals/{entry_id}/collaborators/": _w("journal_entry_updated"),
    "DELETE /api/journals/{entry_id}/collaborators/{username}/": _w("journal_entry_updated"),
    "POST /api/journals/{entry_id}/comments/": _w("journal_comment", "notification"),
    # Realtime admin (staff)
    "POST /api/websocket/broadcast": Writes(exempt=_WS_ADMIN),
    "POST /api/websocket/broadcast/room": Writes(exempt=_WS_ADMIN),
    "DELETE /api/websocket/clients/{client_id}": Writes(exempt=_WS_ADMIN),
}

WRITE_METHODS = ("post", "put", "patch", "delete")


# --- The check at publish time (tests: settings.EVENTS_VALIDATE_ON_PUBLISH) -----------------
class EventSchemaError(ValueError):
    """An event whose type is not in EVENTS or whose payload does not match its schema."""


_validators: dict[str, Any] = {}
_components_cache: dict[str, Any] = {}


def openapi_to_json_schema(node: Any) -> Any:
    """OpenAPI 3.0 schema -> JSON Schema 2020-12: `nullable` becomes a null alternative,
    and objects with declared properties allow no others (shapes are strict)."""
    if isinstance(node, list):
        return [openapi_to_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {
        key: openapi_to_json_schema(value)
        for key, value in node.items()
        if key not in {"readOnly", "writeOnly"}
    }
    if out.get("type") == "object" and "properties" in out and "additionalProperties" not in out:
        out["additionalProperties"] = False
    if out.pop("nullable", False):
        return {"anyOf": [out, {"type": "null"}]}
    return out


def _schema_components() -> dict[str, Any]:
    """The components of this process's own /api/schema/ (generated once)."""
    if not _components_cache:
        document = SchemaGenerator().get_schema(request=None, public=True)
        _components_cache.update(document["components"]["schemas"])
    return _components_cache


def check_event(type_: str, payload: dict[str, Any]) -> None:
    """Raise EventSchemaError unless `type_` is a catalogued event and `payload` matches
    its schema (the same check the event tests apply to what a socket receives)."""
    spec = EVENTS.get(type_)
    if spec is None:
        raise EventSchemaError(f"event {type_!r} is not in trava.events_catalogue.EVENTS")
    validator = _validators.get(type_)
    if validator is None:
        schemas = _schema_components()
        root = openapi_to_json_schema(copy.deepcopy(payload_schema(spec, schemas)))
        root["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        root["components"] = {"schemas": openapi_to_json_schema(copy.deepcopy(schemas))}
        validator = jsonschema.Draft202012Validator(root, format_checker=jsonschema.FormatChecker())
        _validators[type_] = validator
    error = jsonschema.exceptions.best_match(validator.iter_errors(payload))
    if error is not None:
        where = "/".join(str(part) for part in error.absolute_path) or "(payload)"
        raise EventSchemaError(f"event {type_!r}: {where}: {error.message}")


def check_on_publish(type_: str, payload: dict[str, Any]) -> None:
    """What the publisher calls for every event it sends: when the setting
    EVENTS_VALIDATE_ON_PUBLISH is on (the test settings), check_event, logging the error
    and raising it; otherwise nothing (production does not pay for it)."""
    if not getattr(settings, "EVENTS_VALIDATE_ON_PUBLISH", False):
        return
    try:
        check_event(type_, payload)
    except EventSchemaError:
        logger.exception("an event does not match its catalogue entry")
        raise
