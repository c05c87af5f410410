"""Reading and writing the event log (events.models). Sync ORM code: call it from a
worker thread (`database_sync_to_async`) on an event loop.

- `record(entries)`: inside the caller's transaction, hand out each room's next ids (one
  upsert per room, rooms in sorted order so two transactions never wait on each other
  crosswise) and insert the rows. The ids are gap-free: a rolled-back transaction gives
  its ids back with its rows. A long audience is stored once (SharedAudience) and each
  row refers to it; every function here that reads rows gives them their text back.
- `replay(room, since, epoch)`: what a client that saw up to `since` missed, if the log
  still holds all of it (protocol.md 9.3).
"""

from __future__ import annotations

import hashlib
import time
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
from events.models import LoggedEvent, RoomSequence, SharedAudience

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


# --- Shared audiences ---------------------------------------------------------------------
# An audience text longer than INLINE_AUDIENCE characters is stored once (SharedAudience)
# and each row refers to it; the row's `audience` column then holds SHARED, which no
# reader can mistake for ids (parsing it fails), and every read below puts the text back.
INLINE_AUDIENCE = 64
SHARED = "#"
_SHARE = (
    "INSERT INTO events_sharedaudience (digest, text, last_used) VALUES (%s, %s, %s) "
    "ON CONFLICT (digest) DO UPDATE SET last_used = excluded.last_used RETURNING id"
)
# digest -> (id, time.monotonic() of its last upsert): rows this process wrote or touched
# in a transaction that committed. A cached id is used without a query for TOUCH_EVERY
# seconds; pruning keeps any row used in the last retention (at least 4 x TOUCH_EVERY),
# so an id used from here cannot have been deleted.
_shared_ids: dict[str, tuple[int, float]] = {}
_SHARED_IDS_KEPT = 1024


def touch_every() -> float:
    return min(3600.0, settings.HISTORY_RETENTION / 4)


def _remember(found: dict[str, tuple[int, float]]) -> None:
    if len(_shared_ids) + len(found) > _SHARED_IDS_KEPT:
        _shared_ids.clear()
    _shared_ids.update(found)


def _shared_id(cursor: Any, text: str, now: Any, written: dict[str, tuple[int, float]]) -> int:
    digest = hashlib.blake2b(text.encode(), digest_size=16).hexdigest()
    known = written.get(digest) or _shared_ids.get(digest)  # this transaction's first
    if known is not None and time.monotonic() - known[1] < touch_every():
        return known[0]
    cursor.execute(_SHARE, [digest, text, now])
    shared_id = int(cursor.fetchone()[0])
    written[digest] = (shared_id, time.monotonic())
    return shared_id


def record(entries: list[Entry]) -> list[LoggedEvent]:
    """Write `entries` to the log in the current transaction; the rows, ids assigned, in
    the order given (each room's ids follow that order)."""
    if not entries:
        return []
    counts = Counter(room for room, *_ in entries)
    next_id: dict[str, int] = {}
    epochs: dict[str, str] = {}
    written: dict[str, tuple[int, float]] = {}
    # Remembered only when they commit with the transaction itself: inside a savepoint
    # of the caller's, its rollback could take them with it unseen.
    hooks = None if connection.savepoint_ids else getattr(connection, "trava_events", None)
    with transaction.atomic(), connection.cursor() as cursor:
        for room in sorted(counts):
            last, epochs[room] = _take(cursor, room, counts[room])
            next_id[room] = last - counts[room] + 1
        now = timezone.now()
        rows = []
        for room, type_, payload, audience in entries:
            row = LoggedEvent(room=room, event_id=next_id[room], type=type_, payload=payload, created_at=now)
            if isinstance(audience, str) and len(audience) > INLINE_AUDIENCE:
                row.shared_audience_id = _shared_id(cursor, audience, now, written)
                row.audience = SHARED
            else:
                row.audience = audience
            row.epoch = epochs[room]  # sending after the commit needs no query
            rows.append(row)
            next_id[room] += 1
        LoggedEvent.objects.bulk_create(rows)
        if written and hooks is not None:
            hooks.on_commit.append(lambda: _remember(written))
    for row, (_room, _type, _payload, audience) in zip(rows, entries, strict=True):
        row.audience = audience  # sent on with the text, as every reader gets it
    return rows


def _with_audiences(rows: list[LoggedEvent]) -> list[LoggedEvent]:
    """The rows with each shared audience's text back in `audience`."""
    ids = {row.shared_audience_id for row in rows if row.shared_audience_id is not None}
    if ids:
        texts = dict(SharedAudience.objects.filter(pk__in=ids).values_list("pk", "text"))
        for row in rows:
            if row.shared_audience_id is not None:
                row.audience = texts[row.shared_audience_id]
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
    return Replay(current, last, recovered=True, events=_with_audiences(rows))


def page(room: str, since: int, limit: int) -> tuple[list[LoggedEvent], bool]:
    """Up to `limit` events after `since`, oldest first, and whether more follow."""
    rows = list(LoggedEvent.objects.filter(room=room, event_id__gt=since).order_by("event_id")[: limit + 1])
    return _with_audiences(rows[:limit]), len(rows) > limit


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
    rows = LoggedEvent.objects.filter(
        room=room,
        event_id__gt=event_id,
        created_at__lte=now - timedelta(seconds=settled_before),
        created_at__gte=now - timedelta(seconds=window),
    ).order_by("event_id")
    return _with_audiences(list(rows))


def prune(older_than: timedelta | None = None) -> int:
    """Delete events past retention; how many. The sequences stay (ids never go back).
    Shared audiences go when no event refers to them and none was used for the whole
    retention (never sooner: a process may still hold the id, see _shared_ids)."""
    now = timezone.now()
    cutoff = now - (older_than if older_than is not None else retention())
    deleted, _ = LoggedEvent.objects.filter(created_at__lt=cutoff).delete()
    referenced = LoggedEvent.objects.filter(shared_audience__isnull=False).values("shared_audience")
    SharedAudience.objects.filter(last_used__lt=now - retention()).exclude(pk__in=referenced).delete()
    return deleted
