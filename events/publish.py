"""`publish`: how a change announces its events, in the transaction that makes it.

Each app's signals.py calls `publish(key, build)` (or `send_on_commit`, its older name)
while the change is being made. Nothing is built yet: several writes of one service land
after the first signal (an expense's shares after the expense), and the event must carry
the state the transaction commits. At COMMIT, before the database commits (the pre-commit
hook of events.db's backends), every pending build runs, its events get their audience
(the room's rule at that moment, or the event's own), and they are written to the event
log in that same transaction. After the commit they are handed to the real-time layer
(events.delivery.send). A rolled-back transaction (or savepoint) takes its pending events
with it; a crash after the commit loses no event: the relay of any node sends it late.

Within one transaction, a second `publish` with the same key is merged into the pending
one (the build reads the final state anyway), and a deletion (`final=True`, built at
once: after the commit there is nothing left to read) replaces it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import QuerySet

from events import delivery, log, pending
from events.audience import Audience, Wire

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Event:
    type: str
    rooms: tuple[str, ...]
    payload: dict[str, Any]
    # Who may receive it, where the rooms cannot tell at commit: a deletion whose room
    # goes with the deleted thing (an album's room) takes the audience of the moment it
    # was deleted. None: whoever each room admits at commit.
    audience: Audience | None = None


Build = Callable[[], Iterable[Event]]


def _log(events: Iterable[Event], *, checked: bool = True) -> list[Any]:
    """Log `events` in the current transaction: each with its audience, per room."""
    entries = []
    audiences: dict[str, Wire] = {}
    for event in events:
        if checked:
            delivery.check(event.type, event.payload)
        for room in event.rooms:
            if event.audience is not None:
                audience = event.audience.to_wire()
            else:
                if room not in audiences:
                    audiences[room] = delivery.audience_of(room).to_wire()
                audience = audiences[room]
            entries.append((room, event.type, event.payload, audience))
    return log.record(entries)


def publish(key: Hashable, build: Build, *, final: bool = False, using: str | None = None) -> None:
    """Log the events `build()` returns when the current transaction commits (nothing if
    it rolls back), then broadcast them; outside a transaction, at once."""
    connection = transaction.get_connection(using)
    queued = getattr(connection, "trava_events", None)
    if not connection.in_atomic_block or queued is None:
        with transaction.atomic(using=using):
            rows = _log(build())
        delivery.send(rows)
        return
    queued.add(key, build, frozenset(sid for sid in connection.savepoint_ids if sid), final)


send_on_commit = publish

pending.set_recorder(_log)


def log_now(
    room: str, type_: str, payload: dict[str, Any], audience: Audience | None = None, *, checked: bool = True
) -> list[Any]:
    """An event that is its own change (presence, a staff broadcast): logged in its own
    transaction; the caller sends the rows. `checked=False` skips the catalogue check
    (the test hook's made-up events)."""
    with transaction.atomic():
        return _log([Event(type_, (room,), payload, audience)], checked=checked)


def deleted_by_cascade(origin: Any, *parents: type) -> bool:
    """True when a post_delete comes from deleting one of `parents` (a cascade): its
    `origin` is the instance or queryset whose delete() started it."""
    model = origin.model if isinstance(origin, QuerySet) else type(origin)
    return any(issubclass(model, parent) for parent in parents)
