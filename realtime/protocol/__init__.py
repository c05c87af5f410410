"""Every wire message of /ws, declared once (protocol.md).

Client -> server payloads are validated here (types and lengths); server -> client shapes
are declared in SERVER_MESSAGES so tests can check every message the server sends. The
commands the apps register (events.commands: social's `send_message` and its reply
`message_ack`) bring their own schemas; `client_schemas()` lists them with these.
Serialization lives here too: compact JSON, `timestamp` always set by the server.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from events.commands import COMMANDS, Field, Schema
from events.rooms import MAX_ROOM_ID_LENGTH
from trava.jsonlimits import MAX_JSON_DEPTH, json_depth_exceeds, text_may_nest_deeper

# --- Client -> server message types ----------------------------------------------------
AUTHENTICATE = "authenticate"
JOIN_ROOM = "join_room"
LEAVE_ROOM = "leave_room"
PING = "ping"

# --- Server -> client message types ----------------------------------------------------
AUTHENTICATED = "authenticated"
ROOM_JOINED = "room_joined"
ROOM_LEFT = "room_left"
PONG = "pong"
ERROR = "error"
USER_JOINED = "user_joined"
USER_LEFT = "user_left"
NOTIFICATION = "notification"


# --- Error codes (section 7) -------------------------------------------------------------
class Err:
    INVALID_MESSAGE = "invalid_message"
    UNKNOWN_TYPE = "unknown_type"
    NOT_AUTHENTICATED = "not_authenticated"
    INVALID_TOKEN = "invalid_token"
    AUTH_TIMEOUT = "auth_timeout"
    TOKEN_EXPIRED = "token_expired"
    ROOM_ACCESS_DENIED = "room_access_denied"
    INVALID_ROOM = "invalid_room"
    NOT_IN_ROOM = "not_in_room"
    TOO_MANY_ROOMS = "too_many_rooms"
    RATE_LIMITED = "rate_limited"
    MESSAGE_TOO_LARGE = "message_too_large"
    INTERNAL_ERROR = "internal_error"


ERROR_CODES = frozenset(v for k, v in vars(Err).items() if k.isupper())


# --- Close codes (section 7) -------------------------------------------------------------
class Close:
    AUTH_FAILED = 4001  # authentication failed, timed out or expired
    FORBIDDEN = 4003  # user deactivated or client kicked by staff
    FLOOD = 4008  # kept sending past the rate limit
    TOO_MANY_CONNECTIONS = 4029  # MAX_CONNECTIONS_PER_USER reached, cluster-wide
    MESSAGE_TOO_BIG = 1009  # frame over MAX_MESSAGE_BYTES (daphne/autobahn sends it)
    SERVICE_RESTART = 1012  # node shutting down: reconnect elsewhere
    TRY_AGAIN_LATER = 1013  # node at MAX_CONNECTIONS
    IDLE = 1001  # silent longer than WS_IDLE_TIMEOUT ("going away", as API gateways do)
    SLOW_CONSUMER = 1008  # stopped reading: over WS_MAX_OUTBOUND_BYTES queued (policy violation)


# Reasons carried by room_left when the server removes a client from a room.
LEFT_ACCESS_REVOKED = "access_revoked"

MAX_TYPE_LENGTH = 64
MAX_REQUEST_ID_LENGTH = 128
MAX_TOKEN_LENGTH = 4096


class ProtocolError(Exception):
    """A client message that gets an `error` answer (never a close)."""

    def __init__(self, code: str, message: str, reply_to: str | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.reply_to = reply_to
        self.extra = extra


_STR = (str,)
_INT = (int,)

# Client -> server payload schemas of realtime's own messages (a Field is events.commands'
# own, so the apps' commands declare theirs alike). Unknown extra fields are ignored
# (forward compatible).
CLIENT_SCHEMAS: dict[str, Schema] = {
    AUTHENTICATE: {"token": Field(_STR, min_length=1, max_length=MAX_TOKEN_LENGTH)},
    JOIN_ROOM: {
        "roomId": Field(_STR, min_length=1, max_length=MAX_ROOM_ID_LENGTH),
        "roomType": Field(_STR, required=False, max_length=32),
        "since": Field(_INT, required=False, minimum=0),
        "epoch": Field(_STR, required=False, max_length=64),
    },
    LEAVE_ROOM: {"roomId": Field(_STR, min_length=1, max_length=MAX_ROOM_ID_LENGTH)},
    PING: {},  # any payload, echoed back
}

# Server -> client shapes: the payload keys each message always has (tests check these).
SERVER_MESSAGES: dict[str, frozenset[str]] = {
    AUTHENTICATED: frozenset({"clientId", "user", "expiresAt"}),
    ROOM_JOINED: frozenset({"roomId", "roomType", "members", "lastEventId", "epoch", "recovered"}),
    ROOM_LEFT: frozenset({"roomId"}),
    PONG: frozenset(),
    ERROR: frozenset({"code", "message"}),
    USER_JOINED: frozenset({"roomId", "user"}),
    USER_LEFT: frozenset({"roomId", "user"}),
}
# Room events carry these at the top level besides type/payload/timestamp.
ROOM_EVENT_KEYS = frozenset({"type", "payload", "timestamp", "roomId", "eventId", "epoch"})


@dataclass(frozen=True)
class Request:
    type: str
    payload: dict[str, Any]
    id: str | None


def now_ms() -> int:
    return int(time.time() * 1000)


def dumps(message: dict[str, Any]) -> str:
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False)


def encode(type_: str, payload: dict[str, Any], **extra: Any) -> str:
    """One server -> client frame; `extra` adds top-level keys (replyTo goes in errors)."""
    return dumps({"type": type_, "payload": payload, "timestamp": now_ms(), **extra})


def encode_error(code: str, message: str, reply_to: str | None = None, **extra: Any) -> str:
    """An `error`: the request's id is `payload.replyTo` and top-level `replyTo` (the
    acks carry it at the top level only)."""
    payload: dict[str, Any] = {"code": code, "message": message, **extra}
    if reply_to is None:
        return encode(ERROR, payload)
    payload["replyTo"] = reply_to
    return encode(ERROR, payload, replyTo=reply_to)


def parse_envelope(text: str | None, bytes_data: bytes | None = None) -> Request:
    """The envelope of one frame, or ProtocolError(invalid_message)."""
    if text is None:
        raise ProtocolError(Err.INVALID_MESSAGE, "Frames must be JSON text, not binary.")
    try:
        message = json.loads(text)
    except (ValueError, RecursionError):
        raise ProtocolError(Err.INVALID_MESSAGE, "Frames must be JSON text.") from None
    if not isinstance(message, dict):
        raise ProtocolError(Err.INVALID_MESSAGE, "A message is a JSON object.")
    # Deeper than any message of the protocol: refused before a reply echoes it (ping)
    # and json.dumps hits the recursion limit.
    if text_may_nest_deeper(text) and json_depth_exceeds(message):
        raise ProtocolError(Err.INVALID_MESSAGE, f"Frames nest at most {MAX_JSON_DEPTH} levels deep.")
    request_id = message.get("id")
    if not isinstance(request_id, str) or len(request_id) > MAX_REQUEST_ID_LENGTH:
        request_id = None
    type_ = message.get("type")
    if not isinstance(type_, str) or not type_ or len(type_) > MAX_TYPE_LENGTH:
        raise ProtocolError(Err.INVALID_MESSAGE, "type must be a non-empty string.", reply_to=request_id)
    payload = message.get("payload", {})
    if payload is None:
        payload = {}
    if not isinstance(payload, dict):
        raise ProtocolError(Err.INVALID_MESSAGE, "payload must be an object.", reply_to=request_id)
    return Request(type_, payload, request_id)


def client_schemas() -> dict[str, Schema]:
    """Every client message's schema: realtime's own and the registered commands'."""
    return {**CLIENT_SCHEMAS, **{name: command.schema for name, command in COMMANDS.items()}}


def validate_payload(type_: str, payload: dict[str, Any]) -> None:
    """Check a known message's payload against its schema; ProtocolError if it fails."""
    check_fields(CLIENT_SCHEMAS[type_], payload)


def check_fields(schema: dict[str, Field], payload: dict[str, Any]) -> None:
    """Check a payload against a schema of fields; ProtocolError if it fails."""
    for name, field in schema.items():
        if name not in payload:
            if field.required:
                raise ProtocolError(Err.INVALID_MESSAGE, f"payload.{name} is required.")
            continue
        value = payload[name]
        # bool is an int subclass: true is not a valid eventId.
        if not isinstance(value, field.types) or isinstance(value, bool):
            raise ProtocolError(Err.INVALID_MESSAGE, f"payload.{name} has the wrong type.")
        if isinstance(value, str):
            if len(value) < field.min_length:
                raise ProtocolError(Err.INVALID_MESSAGE, f"payload.{name} must not be empty.")
            if field.max_length is not None and len(value) > field.max_length:
                raise ProtocolError(field.too_long_code, f"payload.{name} is too long.")
        if isinstance(value, int) and field.minimum is not None and value < field.minimum:
            raise ProtocolError(Err.INVALID_MESSAGE, f"payload.{name} must be >= {field.minimum}.")
