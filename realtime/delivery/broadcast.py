"""Room events from the event log to the nodes (the only caller of `group_send` for room
events).

Every room event is first a row of the event log (events.log: room, eventId, type,
payload, audience), written in the transaction of its change (events.publish) or, for
events that are their own change (presence, staff broadcasts), in one of their own
(`abroadcast`). After the commit, `send_logged(rows)` builds each event's frame once
(`frame_text`: the same text live and in a replay) and sends it to the room's group:
the fast path, where each node's hub hands it to the local members its audience admits.

The log, not the channel layer, is what makes delivery complete. Every node checks,
every EVENT_RELAY_INTERVAL, that its local members' rooms got every logged event that
settled more than EVENT_RELAY_GRACE seconds ago (`CatchUp`, run by the hub), and delivers
the missing ones from the log: an event whose node died between its commit and its send,
a message the channel layer dropped, a group Redis forgot (flush, restart). Delivered
late, never lost; the hub delivers each id once.

A channel-layer failure is logged and counted (`broadcastFailures`), never raised into
the caller: the change is committed, and the catch-up delivers it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import weakref
from typing import Any

from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer

from events import log
from events.audience import Audience, Wire
from events.models import LoggedEvent
from events.publish import log_now
from realtime import protocol
from realtime.delivery import audience
from realtime.delivery.groups import ALL_NODES_GROUP, room_group
from realtime.delivery.stats import STATS, observe_send

logger = logging.getLogger(__name__)

Item = tuple[str, int, str, Wire]  # room, eventId, frame text, audience


def frame(row: LoggedEvent, epoch: str) -> dict[str, Any]:
    """A logged event as clients receive it, live, replayed or caught up over REST."""
    return {
        "type": row.type,
        "roomId": row.room,
        "eventId": row.event_id,
        "epoch": epoch,
        "timestamp": int(row.created_at.timestamp() * 1000),
        "payload": row.payload,
    }


def frame_text(row: LoggedEvent, epoch: str) -> str:
    return protocol.dumps(frame(row, epoch))


def items_of(rows: list[LoggedEvent]) -> list[Item]:
    """Each row framed with its room's epoch (set on the row when it was logged or read)."""
    return [(row.room, row.event_id, frame_text(row, row.epoch), row.audience) for row in rows]


# Per-room send order on this node: ids are assigned at commit, and two commits of one
# room on this node could reach the channel layer in the other order (a group_send is
# several Redis round trips). Sending under the room's lock keeps a node's sends in id
# order; clients deliver an id swapped by two nodes late, once. Striped, per event loop.
_ORDER_STRIPES = 64
_order_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, list[asyncio.Lock]] = (
    weakref.WeakKeyDictionary()
)


def _order_locks_of_loop() -> list[asyncio.Lock]:
    loop = asyncio.get_running_loop()
    locks = _order_locks.get(loop)
    if locks is None:
        locks = _order_locks[loop] = [asyncio.Lock() for _ in range(_ORDER_STRIPES)]
    return locks


async def asend(items: list[Item]) -> int:
    """Send logged events to their rooms' groups, in the order given (a commit's events in
    the order the change made them, across its rooms); how many were sent."""
    stripes = sorted({hash(item[0]) % _ORDER_STRIPES for item in items})
    started = time.perf_counter()
    sent = 0
    async with contextlib.AsyncExitStack() as held:
        for stripe in stripes:  # in stripe order: two senders never wait on each other
            await held.enter_async_context(_order_locks_of_loop()[stripe])
        for room_id, event_id, text, aud in items:
            message = {"type": "room.event", "room": room_id, "id": event_id, "text": text,
                       "aud": audience.encode(aud)}  # fmt: skip
            try:
                await get_channel_layer().group_send(room_group(room_id), message)
            except Exception:
                STATS.counters["broadcastFailures"] += 1
                logger.exception("broadcast to %s failed (the nodes' catch-up delivers it)", room_id)
                continue
            sent += 1
    STATS.counters["broadcasts"] += sent
    observe_send(time.perf_counter() - started)
    return sent


def send_logged(rows: list[LoggedEvent]) -> None:
    """After a commit (events.delivery): send its logged events. Sync; never raises."""
    try:
        items = items_of(rows)
    except Exception:
        logger.exception("framing %d logged events failed (the nodes' catch-up delivers them)", len(rows))
        return
    run_from_sync(asend, items)


async def abroadcast(
    room_id: str,
    type_: str,
    payload: dict[str, Any],
    audience: Audience | None = None,
    *,
    checked: bool = True,
) -> int | None:
    """An event that is its own change: logged (its audience: `audience`, else the
    room's now), then sent. Its eventId, or None if it could not be logged (logged,
    counted)."""
    try:
        rows = await database_sync_to_async(log_now)(room_id, type_, payload, audience, checked=checked)
    except Exception:
        STATS.counters["broadcastFailures"] += 1
        logger.exception("logging %s for %s failed", type_, room_id)
        return None
    await asend(items_of(rows))
    return rows[0].event_id


async def abroadcast_all(type_: str, payload: dict[str, Any]) -> bool:
    """A message to every authenticated client on every node (no room, no eventId)."""
    try:
        text = protocol.encode(type_, payload)
        await get_channel_layer().group_send(ALL_NODES_GROUP, {"type": "all.event", "text": text})
    except Exception:
        STATS.counters["broadcastFailures"] += 1
        logger.exception("broadcast of %s to every client failed", type_)
        return False
    return True


def run_from_sync(coro_fn: Any, *args: Any) -> Any:
    """Run an async function from sync code: blocking when no loop runs on this thread,
    scheduled as a task (returned) when one does (async_to_sync would raise there)."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return async_to_sync(coro_fn)(*args)
    return loop.create_task(coro_fn(*args))


def broadcast_all(type_: str, payload: dict[str, Any]) -> bool:
    return run_from_sync(abroadcast_all, type_, payload)


# --- The catch-up from the log -----------------------------------------------------------------
@database_sync_to_async
def missing(floors: dict[str, int], window: float, grace: float) -> list[LoggedEvent]:
    """For rooms whose local watermark is `floors[room]`: the logged events after it of
    the last `window` seconds that settled more than `grace` seconds ago, in order."""
    heads = log.recent_heads(window)
    rows: list[LoggedEvent] = []
    for room, floor in floors.items():
        if heads.get(room, 0) <= floor:
            continue
        found = log.after(room, floor, settled_before=grace, window=window)
        if found:
            room_epoch = log.head(room)[1]
            for row in found:
                row.epoch = room_epoch
            rows.extend(found)
    return rows
