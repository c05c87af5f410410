"""What the real-time layer plugs into the event log at startup (realtime's AppConfig):

- `audience_of(room)`: who the room admits now (its access rule), as an Audience;
- `send(rows)`: broadcast logged events after their commit (never raises).

Until something is registered (a management command, a process without realtime),
events are still logged; the relay of a running node broadcasts them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from events.audience import Audience

logger = logging.getLogger(__name__)

_audience_of: Callable[[str], Audience] | None = None
_send: Callable[[list[Any]], None] | None = None
_check: Callable[[str, dict[str, Any]], None] | None = None


def register(
    *,
    audience_of: Callable[[str], Audience],
    send: Callable[[list[Any]], None],
) -> None:
    global _audience_of, _send
    _audience_of, _send = audience_of, send


def register_check(check: Callable[[str, dict[str, Any]], None] | None) -> None:
    """A check every event passes before it is logged (test settings: its schema)."""
    global _check
    _check = check


def audience_of(room: str) -> Audience:
    if _audience_of is None:
        return Audience.of_users(())  # no rule known: nobody (never more than allowed)
    return _audience_of(room)


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
