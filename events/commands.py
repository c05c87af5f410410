"""The registry of socket commands: client messages an app brings (protocol.md section 5;
social registers `send_message` from its realtime.py).

A command is a payload schema, a plain sync handler `(user, payload) -> dict` and the type
of its reply. The real-time layer dispatches it after its own messages: it checks the
payload against the schema (`invalid_message`, or a field's `too_long_code`), checks that
the client is in the room named by `payload[room_field]` (`not_in_room`), runs the handler
in a worker thread (ORM) and replies `reply_type` with the handler's dict as payload and
the request's id as `replyTo`. A handler refuses with `CommandError(code, message)`: the
client gets an `error` with that code (a code of protocol.md section 7).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# The error codes of protocol.md section 7 a command handler may answer with (realtime's
# protocol declares them all; these are the ones that belong to a command's own rules).
INVALID_MESSAGE = "invalid_message"
INVALID_ROOM = "invalid_room"
ROOM_ACCESS_DENIED = "room_access_denied"
MESSAGE_TOO_LARGE = "message_too_large"


class CommandError(Exception):
    """A command refused: the client gets `error {code, message, replyTo}`."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Field:
    """One payload field of a client message. Unknown extra fields are ignored (forward
    compatible)."""

    types: tuple[type, ...]
    required: bool = True
    max_length: int | None = None  # str fields
    min_length: int = 0
    minimum: int | None = None  # int fields
    too_long_code: str = INVALID_MESSAGE


Schema = dict[str, Field]
Handler = Callable[[Any, dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class Command:
    name: str
    schema: Schema
    handler: Handler
    reply_type: str
    # The payload field naming the room the client must be in (None: no room needed).
    room_field: str | None = "roomId"


COMMANDS: dict[str, Command] = {}


def register_command(
    name: str, schema: Schema, handler: Handler, reply_type: str, room_field: str | None = "roomId"
) -> Command:
    """Called from an app's AppConfig.ready() (its realtime.py). A name is registered once."""
    if room_field is not None and room_field not in schema:
        raise ValueError(f"command {name!r}: room_field {room_field!r} is not in its schema")
    if name in COMMANDS:
        raise ValueError(f"command {name!r} is already registered")
    command = Command(name, dict(schema), handler, reply_type, room_field)
    COMMANDS[name] = command
    return command
