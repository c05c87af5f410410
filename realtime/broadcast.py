"""`broadcast(room_id, type, payload)`: how the apps send a room event (the only caller of
`group_send` for room events).

It assigns the room's next `eventId` and stores the event in the history (for resume),
serializes the event to JSON once, and sends that text to the room's group, where each
node's hub hands it to its local members. A channel-layer or history failure is logged
and counted (`broadcastFailures`), never raised into the caller: a committed change must
not become a 500 because Redis hiccuped.

Call it from `transaction.on_commit` (or use `broadcast_on_commit`): events are sent only
after the change commits. From sync code `broadcast()` blocks until sent; on a thread
with a running event loop it schedules the send and returns the task. Async code can
`await abroadcast(...)`.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
import weakref
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from realtime import protocol, rooms
from realtime.history import get_history
from realtime.stats import STATS, observe_send

logger = logging.getLogger(__name__)


def _frame_parts(room_id: str, type_: str, payload: dict[str, Any]) -> tuple[str, str]:
    """The event's JSON around its eventId: head + str(eventId) + tail."""
    head = protocol.dumps({"type": type_, "roomId": room_id})[:-1] + ',"eventId":'
    tail = "," + protocol.dumps({"timestamp": protocol.now_ms(), "payload": payload})[1:]
    return head, tail


# Per-room send order on this node. The history assigns ids atomically, but two concurrent
# broadcasts to one room could reach the channel layer in the other order (a group_send is
# several Redis round trips), and clients drop an event whose id is not above the last one
# they have, as a duplicate: the event is lost to them. Issue 9's soak found it (about one
# in seven concurrent broadcasts to a room arrived inverted). Appending and sending under
# the room's lock keeps ids in order on this node. Striped, and per event loop (asyncio
# locks belong to one loop; sync callers elsewhere run a loop per call).
_ORDER_STRIPES = 64
_order_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, list[asyncio.Lock]] = (
    weakref.WeakKeyDictionary()
)


def _order_lock(room_id: str) -> asyncio.Lock:
    loop = asyncio.get_running_loop()
    locks = _order_locks.get(loop)
    if locks is None:
        locks = _order_locks[loop] = [asyncio.Lock() for _ in range(_ORDER_STRIPES)]
    return locks[hash(room_id) % _ORDER_STRIPES]


async def abroadcast(
    room_id: str, type_: str, payload: dict[str, Any], audience: list[int] | None = None
) -> int | None:
    """Send a room event; its eventId, or None if it could not be sent (logged, counted).

    `audience` (realtime.audience, wire form) is who may receive it: None for everyone in
    the room, else the user ids, frozen now. It travels with the event to every node and
    into the history, so live delivery and replay apply the same rule."""
    started = time.perf_counter()
    try:
        head, tail = _frame_parts(room_id, type_, payload)
        async with _order_lock(room_id):
            appended = await get_history().append(room_id, head, tail, audience)
            message = {
                "type": "room.event",
                "room": room_id,
                "id": appended.event_id,
                "text": appended.text,
                "aud": audience,
            }
            await get_channel_layer().group_send(rooms.group_name(room_id), message)
    except Exception:
        STATS.counters["broadcastFailures"] += 1
        logger.exception("broadcast of %s to %s failed", type_, room_id)
        return None
    STATS.counters["broadcasts"] += 1
    observe_send(time.perf_counter() - started)
    return appended.event_id


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


def broadcast(
    room_id: str, type_: str, payload: dict[str, Any], audience: list[int] | None = None
) -> int | None:
    return run_from_sync(abroadcast, room_id, type_, payload, audience)


def broadcast_all(type_: str, payload: dict[str, Any]) -> bool:
    return run_from_sync(abroadcast_all, type_, payload)


def broadcast_on_commit(room_id: str, type_: str, payload: dict[str, Any], using: str | None = None) -> None:
    """Send after the current transaction commits (nothing if it rolls back), to the
    room's audience at that moment."""
    transaction.on_commit(
        functools.partial(_broadcast_to_room, room_id, type_, payload), using=using, robust=True
    )


def _broadcast_to_room(room_id: str, type_: str, payload: dict[str, Any]) -> int | None:
    return broadcast(room_id, type_, payload, rooms.room_audience(room_id).to_wire())
