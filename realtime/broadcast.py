"""Room events from the event log to the nodes (the only caller of `group_send` for room
events).

Every room event is first a row of the event log (events.log: room, eventId, type,
payload, audience), written in the transaction of its change (events.publish) or, for
events that are their own change (presence, staff broadcasts), in one of their own
(`abroadcast`). After the commit, `send_logged(rows)` builds each event's frame once
(`frame_text`: the same text live and in a replay), marks it in the hot window
(realtime.history: the first to mark an event sends it) and sends it to the room's group,
where each node's hub hands it to the local members its audience admits. The relay
(`relay_once`, run by every node's hub) sends, late, the logged events that nobody
marked: their node died between the commit and the send.

A channel-layer or Redis failure is logged and counted (`broadcastFailures`), never
raised into the caller: the change is committed, and the relay retries.
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
from events.audience import Audience
from events.models import LoggedEvent
from events.publish import log_now
from realtime import protocol, rooms
from realtime.history import get_history
from realtime.stats import STATS, observe_send

logger = logging.getLogger(__name__)

Item = tuple[str, int, str, list[int] | None]  # room, eventId, frame text, audience


def frame_text(row: LoggedEvent, epoch: str) -> str:
    """A logged event as clients receive it, live or replayed."""
    return protocol.dumps(
        {
            "type": row.type,
            "roomId": row.room,
            "eventId": row.event_id,
            "epoch": epoch,
            "timestamp": int(row.created_at.timestamp() * 1000),
            "payload": row.payload,
        }
    )


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
    """Send logged events not sent yet, in the order given (a commit's events in the
    order the change made them, across its rooms); how many this call sent."""
    rooms_of = sorted({item[0] for item in items})
    stripes = sorted({hash(room) % _ORDER_STRIPES for room in rooms_of})
    started = time.perf_counter()
    sent = 0
    async with contextlib.AsyncExitStack() as held:
        for stripe in stripes:  # in stripe order: two senders never wait on each other
            await held.enter_async_context(_order_locks_of_loop()[stripe])
        fresh: dict[tuple[str, int], bool] = {}
        for room_id in rooms_of:
            ids = [item[1] for item in items if item[0] == room_id]
            try:
                marks = await get_history().mark(room_id, ids)
            except Exception:
                STATS.counters["broadcastFailures"] += 1
                logger.exception("marking events of %s failed (the relay sends them later)", room_id)
                marks = [False] * len(ids)
            fresh.update(zip(((room_id, event_id) for event_id in ids), marks, strict=True))
        for room_id, event_id, text, aud in items:
            if not fresh[(room_id, event_id)]:
                continue
            message = {"type": "room.event", "room": room_id, "id": event_id, "text": text, "aud": aud}
            try:
                await get_channel_layer().group_send(rooms.group_name(room_id), message)
            except Exception:
                STATS.counters["broadcastFailures"] += 1
                logger.exception("broadcast to %s failed", room_id)
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
        logger.exception("framing %d logged events failed (the relay sends them later)", len(rows))
        return
    run_from_sync(asend, items)


async def abroadcast(
    room_id: str, type_: str, payload: dict[str, Any], audience: Audience | None = None
) -> int | None:
    """An event that is its own change: logged (its audience: `audience`, else the
    room's now), then sent. Its eventId, or None if it could not be logged (logged,
    counted)."""
    try:
        rows = await database_sync_to_async(log_now)(room_id, type_, payload, audience)
    except Exception:
        STATS.counters["broadcastFailures"] += 1
        logger.exception("logging %s for %s failed", type_, room_id)
        return None
    await asend(items_of(rows))
    return rows[0].event_id


async def abroadcast_all(type_: str, payload: dict[str, Any]) -> bool:
    """A message to every authenticated client on every node (no room, no eventId)."""
    from realtime.hub import ALL_NODES_GROUP

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


# --- The relay ---------------------------------------------------------------------------------
class Relay:
    """Per node: every EVENT_RELAY_INTERVAL, the logged events of the last
    EVENT_RELAY_WINDOW seconds, committed more than EVENT_RELAY_GRACE seconds ago, that
    no node marked as sent, are sent now. `floors` remembers, per room, up to which id
    this node has checked, so each event is looked at about once per node."""

    def __init__(self) -> None:
        self.floors: dict[str, int] = {}

    async def run_once(self, window: float, grace: float) -> int:
        pending = await self._pending(window, grace)
        sent = await asend(items_of(pending)) if pending else 0
        for row in pending:
            self.floors[row.room] = max(self.floors.get(row.room, 0), row.event_id)
        if sent:
            STATS.counters["relayed"] += sent
            logger.warning("relay: sent %d logged events that were not broadcast", sent)
        return sent

    @database_sync_to_async
    def _pending(self, window: float, grace: float) -> list[LoggedEvent]:
        heads = log.recent_heads(window)
        self.floors = {room: floor for room, floor in self.floors.items() if room in heads}
        pending: list[LoggedEvent] = []
        for room, newest in heads.items():
            floor = self.floors.get(room)
            if floor is not None and floor >= newest:
                continue
            rows = log.after(room, floor or 0, settled_before=grace, window=window)
            if rows:
                room_epoch = log.head(room)[1]
                for row in rows:
                    row.epoch = room_epoch
                pending.extend(rows)
        return pending
