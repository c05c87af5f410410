"""Per-connection state, and what the layers above may ask of a connection (no ASGI).

`Session` holds one client's state: who it is, its rooms and their replay buffers, its
limits and counters. The edge (realtime.edge.consumer) is the ASGI side and implements
the sending and closing methods; the delivery layer (the node hub) and the cluster layer
(control, connection records) hold sessions through this class only, so they never import
the consumer.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from django.conf import settings

from realtime import protocol
from realtime.session.limits import FloodDetector, TokenBucket

RECENT_ERRORS = 10  # kept per connection for the admin API

# Where realtime.runtime hands the application its socket's writer, in the ASGI scope.
WIRE_SCOPE_KEY = "trava.wire"


class Wire(Protocol):
    """A socket's writer (realtime.runtime.wire.SocketWriter): prepared frames
    (realtime.protocol.frames) straight to the socket, never suspending."""

    def write(self, frame: bytes) -> bool:
        """Send or queue one whole frame; False when more than WS_MAX_OUTBOUND_BYTES now
        wait for this client (it stopped reading: close it with close_slow)."""
        ...

    def pending(self) -> int:
        """Bytes written for this client that the kernel has not taken yet."""
        ...

    def close_slow(self, code: int) -> None:
        """Drop the frames not handed to the kernel yet, then close with `code`."""
        ...


@dataclass(slots=True)  # one per room of each connection
class RoomSubscription:
    # While joining, live events are buffered here (the replay goes first); afterwards
    # events with eventId <= floor (already covered by the join) are dropped. Each is
    # (eventId, text, allowed user ids or None: realtime.delivery.audience).
    buffer: list[tuple[int, str, frozenset[int] | None]] | None = field(default_factory=list)
    floor: int = 0
    # Joined only through the staff override (admin inspection): every event of the room,
    # and the room is left when the staff flag goes (the hub's recheck).
    via_staff: bool = False


class Session:
    """One connection's state. Sending and closing are the edge's (abstract here)."""

    # Fixed slots, not instance-dict entries: with the edge's own fields a connection had
    # more than 30 attributes, past what CPython's shared-key instance dicts hold, and
    # each consumer carried a dict of its own (1.5 KiB of every idle connection).
    __slots__ = (
        "admitted", "bucket", "cleaned", "client_id", "close_code", "closed", "connected_at_ms",
        "dirty", "errors", "expires_at_ms", "flood", "hub", "last_activity_ms", "last_seen",
        "messages_in", "messages_out", "recent_errors", "registered", "rooms", "rooms_joined",
        "user", "user_id", "wire",
    )  # fmt: skip

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.client_id = os.urandom(16).hex()  # 32 hex digits, as uuid4().hex, cheaper
        self.hub: Any = None  # the node hub (realtime.delivery.hub.Hub) once admitted
        self.user: Any = None
        self.user_id: int | None = None
        self.expires_at_ms = 0
        self.rooms: dict[str, RoomSubscription] = {}
        self.closed = False
        self.cleaned = False
        self.registered = False
        self.admitted = False
        self.close_code: int | None = None  # sent by us, else received from the client
        self.rooms_joined = 0
        self.last_seen = time.monotonic()
        self.connected_at_ms = protocol.now_ms()
        self.last_activity_ms = self.connected_at_ms
        self.messages_in = 0
        self.messages_out = 0
        # Made on the first error: most connections never have one.
        self.errors: Counter[str] | None = None
        self.recent_errors: tuple[dict[str, Any], ...] = ()  # the last RECENT_ERRORS
        self.dirty = False
        self.bucket = TokenBucket(settings.WS_RATE_LIMIT, settings.WS_RATE_BURST)
        self.flood = FloodDetector(settings.WS_FLOOD_STRIKES, settings.WS_FLOOD_WINDOW)
        # The runtime's writer for this socket (frames go straight to it): the ASGI scope's
        # WIRE_SCOPE_KEY; None under other servers, test harnesses and daphne's public path.
        self.wire: Wire | None = None

    # --- identity and records -----------------------------------------------------------
    def authenticated(self, user: Any) -> None:
        self.user, self.user_id = user, user.pk

    def user_dict(self) -> dict[str, Any]:
        return {"id": self.user_id, "username": self.user.get_username() if self.user else ""}

    def note_error(self, code: str) -> None:
        if self.errors is None:
            self.errors = Counter()
        self.errors[code] += 1
        self.recent_errors = (
            *self.recent_errors[-(RECENT_ERRORS - 1) :],
            {"code": code, "at": protocol.now_ms()},
        )

    def record_update(self) -> dict[str, Any]:
        return {
            "clientId": self.client_id,
            "messagesIn": self.messages_in,
            "messagesOut": self.messages_out,
            "errors": dict(self.errors or ()),
            "recentErrors": list(self.recent_errors),
            "lastActivity": self.last_activity_ms,
        }

    def client_record(self) -> dict[str, Any]:
        return {
            **self.record_update(),
            "userId": self.user_id,
            "username": self.user.get_username() if self.user else "",
            "connectedAt": self.connected_at_ms,
            "remoteAddress": self.remote_address(),
            "userAgent": self.user_agent()[:256],
            "rooms": list(self.rooms),
        }

    def remote_address(self) -> str:
        raise NotImplementedError

    def user_agent(self) -> str:
        raise NotImplementedError

    # --- what the edge implements -------------------------------------------------------
    def set_expiry(self, expires_at_ms: int) -> None:
        raise NotImplementedError

    def registered_in_cluster(self) -> None:
        raise NotImplementedError

    async def push(self, text: str) -> None:
        raise NotImplementedError

    def overflowed(self) -> None:
        raise NotImplementedError

    async def reply(self, type_: str, payload: dict[str, Any], reply_to: str | None) -> None:
        raise NotImplementedError

    async def send_close(self, code: int) -> None:
        raise NotImplementedError

    async def close_with(
        self, code: int, error: str | None = None, message: str = "", reply_to: str | None = None
    ) -> None:
        raise NotImplementedError

    async def cleanup(self) -> None:
        raise NotImplementedError

    async def revoke(self, room_id: str) -> None:
        raise NotImplementedError


# Called with each session that ended (after the hub forgot it): the cluster layer's
# connection records register here from RealtimeConfig.ready().
_ended: list[Callable[[Session], None]] = []


def on_session_end(listener: Callable[[Session], None]) -> None:
    if listener not in _ended:
        _ended.append(listener)


def session_ended(session: Session) -> None:
    for listener in _ended:
        listener(session)
