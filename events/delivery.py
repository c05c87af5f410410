"""What the real-time layer plugs into the event log at startup (realtime's AppConfig):
`send(rows)`, which broadcasts logged events after their commit (never raises).

Until something is registered (a process without realtime), events are still logged;
the relay of a running node broadcasts them. Who a room admits (`audience_of`) is its
room type's rule, registered by the app that brings the room (events.rooms).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from events.audience import Audience
from events.rooms import room_audience

logger = logging.getLogger(__name__)

_send: Callable[[list[Any]], None] | None = None
_check: Callable[[str, dict[str, Any]], None] | None = None


def register(*, send: Callable[[list[Any]], None]) -> None:
    global _send
    _send = send


def register_check(check: Callable[[str, dict[str, Any]], None] | None) -> None:
    """A check every event passes before it is logged (test settings: its schema)."""
    global _check
    _check = check


def audience_of(room: str) -> Audience:
    """Who the room admits now: its room type's rule (nobody for an unknown room)."""
    return room_audience(room)


def check(type_: str, payload: dict[str, Any]) -> None:
    if _check is not None:
        _check(type_, payload)


def send(rows: list[Any]) -> None:
    if _send is None or not rows:
        return
    try:
        _send(rows)
    except Exception:  # committed: the relay delivers what this could not
        logger.exception("sending %d logged events failed", len(rows))
