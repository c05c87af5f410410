"""Reading and writing the event log (events.models). Sync ORM code: call it from a
worker thread (`database_sync_to_async`) on an event loop.

- `record(entries)`: inside the caller's transaction, hand out each room's next ids (one
  upsert per room, rooms in sorted order so two transactions never wait on each other
  crosswise) and insert the rows. The ids are gap-free: a rolled-back transaction gives
  its ids back with its rows.
- `replay(room, since, epoch)`: what a client that saw up to `since` missed, if the log
  still holds all of it (protocol.md 9.3).
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from events.audience import Wire
from events.models import LoggedEvent, RoomSequence

Entry = tuple[str, str, dict[str, Any], Wire]  # room, type, payload, audience

# Hands out `n` ids of a room (n = 0 only reads), creating its row with a new epoch.
_UPSERT = (
    "INSERT INTO events_roomsequence (room, last_event_id, epoch) VALUES (%s, %s, %s) "
    "ON CONFLICT (room) DO UPDATE "
    "SET last_event_id = events_roomsequence.last_event_id + excluded.last_event_id "
    "RETURNING last_event_id, epoch"
)


def new_epoch() -> str:
    return uuid.uuid4().hex[:12]


def _take(cursor: Any, room: str, n: int) -> tuple[int, str]:
    cursor.execute(_UPSERT, [room, n, new_epoch()])
    last, room_epoch = cursor.fetchone()
    return int(last), room_epoch


def record(entries: list[Entry]) -> list[LoggedEvent]:
    """Write `entries` to the log in the current transaction; the rows, ids assigned, in
    the order given (each room's ids follow that order)."""
    if not entries:
        return []
    counts = Counter(room for room, *_ in entries)
    next_id: dict[str, int] = {}
    epochs: dict[str, str] = {}
    with transaction.atomic(), connection.cursor() as cursor:
        for room in sorted(counts):
            last, epochs[room] = _take(cursor, room, counts[room])
            next_id[room] = last - counts[room] + 1
        now = timezone.now()
        rows = []
        for room, type_, payload, audience in entries:
            row = LoggedEvent(room=room, event_id=next_id[room], type=type_, payload=payload, created_at=now)
            row.audience = audience
            row.epoch = epochs[room]  # sending after the commit needs no query
            rows.append(row)
            next_id[room] += 1
        LoggedEvent.objects.bulk_create(rows)
    return rows


def reset() -> int:
    """Empty the log: every room starts again at id 1 in a new epoch (clients resume
    with `recovered: false`). How many events were deleted."""
    with transaction.atomic():
        deleted, _ = LoggedEvent.objects.all().delete()
        RoomSequence.objects.all().delete()
    return deleted


def head(room: str) -> tuple[int, str]:
    """The room's last eventId and its epoch (the room's row is made on first use)."""
    found = RoomSequence.objects.filter(room=room).values_list("last_event_id", "epoch").first()
    if found is not None:
        return found
    with connection.cursor() as cursor:
        return _take(cursor, room, 0)


def retention() -> timedelta:
    return timedelta(seconds=settings.HISTORY_RETENTION)


@dataclass
class Replay:
    epoch: str
    last_event_id: int
    recovered: bool
    expired: bool = False  # `since` is older than what the log keeps (410 over REST)
    events: list[LoggedEvent] = field(default_factory=list)


def replay(room: str, since: int | None, client_epoch: str | None, limit: int | None = None) -> Replay:
    """The events of `room` after `since`, in order, if every one of them is still in the
    log (else `recovered: false`). A client that sends no epoch is trusted on ids."""
    last, current = head(room)
    if since is None:
        return Replay(current, last, recovered=False)
    if (client_epoch is not None and client_epoch != current) or since > last or since < 0:
        return Replay(current, last, recovered=False)
    if since == last:
        return Replay(current, last, recovered=True)
    limit = settings.HISTORY_MAX_EVENTS if limit is None else limit
    rows = list(
        LoggedEvent.objects.filter(room=room, event_id__gt=since, event_id__lte=last).order_by("event_id")[
            : limit + 1
        ]
    )
    oldest_kept = timezone.now() - retention()
    if not rows or rows[0].event_id != since + 1 or rows[0].created_at < oldest_kept:
        return Replay(current, last, recovered=False, expired=True)
    if len(rows) > limit:  # more than a replay carries: re-read the state instead
        return Replay(current, last, recovered=False)
    return Replay(current, last, recovered=True, events=rows)


def page(room: str, since: int, limit: int) -> tuple[list[LoggedEvent], bool]:
    """Up to `limit` events after `since`, oldest first, and whether more follow."""
    rows = list(LoggedEvent.objects.filter(room=room, event_id__gt=since).order_by("event_id")[: limit + 1])
    return rows[:limit], len(rows) > limit


def expired(room: str, since: int) -> bool:
    """True when events after `since` were pruned (or are past retention)."""
    if since >= head(room)[0]:
        return False
    first = LoggedEvent.objects.filter(room=room, event_id__gt=since).order_by("event_id").first()
    return first is None or first.event_id != since + 1 or first.created_at < timezone.now() - retention()


def last(room: str) -> tuple[int, int | None]:
    """(events in the room, ms timestamp of the last one), for the admin API."""
    newest = LoggedEvent.objects.filter(room=room).order_by("-event_id").values_list("created_at", flat=True)
    at = newest.first()
    last_id = RoomSequence.objects.filter(room=room).values_list("last_event_id", flat=True).first()
    return last_id or 0, (int(at.timestamp() * 1000) if at else None)


def recent_heads(window: float) -> dict[str, int]:
    """Each room with events in the last `window` seconds, and its newest eventId."""
    since = timezone.now() - timedelta(seconds=window)
    rows = LoggedEvent.objects.filter(created_at__gte=since).values("room").annotate(newest=Max("event_id"))
    return {row["room"]: row["newest"] for row in rows}


def after(room: str, event_id: int, *, settled_before: float, window: float) -> list[LoggedEvent]:
    """Events of `room` after `event_id`, committed between `window` and `settled_before`
    seconds ago, in order."""
    now = timezone.now()
    return list(
        LoggedEvent.objects.filter(
            room=room,
            event_id__gt=event_id,
            created_at__lte=now - timedelta(seconds=settled_before),
            created_at__gte=now - timedelta(seconds=window),
        ).order_by("event_id")
    )


def prune(older_than: timedelta | None = None) -> int:
    """Delete events past retention; how many. The sequences stay (ids never go back)."""
    cutoff = timezone.now() - (older_than if older_than is not None else retention())
    deleted, _ = LoggedEvent.objects.filter(created_at__lt=cutoff).delete()
    return deleted
