"""Writing connection records (realtime.models.ConnectionRecord) off the hot path.

A connection that ends queues its row; one flush task per event loop writes the queue
with a single `bulk_create` in one `database_sync_to_async` call, FLUSH_DELAY seconds
after the first row, so a thousand clients leaving at once cost a few inserts, not a
thousand thread hops. A graceful shutdown flushes after the drain (realtime.runtime.serve); the
registry sweep queues the clients a dead node lost (close code null, `lost`). Rows still
queued when a process is killed with -9 are lost with it.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
from typing import Any

from channels.db import database_sync_to_async
from django.contrib.auth import get_user_model

from events.rooms import USER, room_type_of
from realtime.delivery.registry.base import on_clients_lost
from realtime.models import ConnectionRecord
from realtime.session import Session, on_session_end

logger = logging.getLogger(__name__)

FLUSH_DELAY = 0.3  # seconds
MAX_QUEUED = 50_000  # beyond this (database down for long) rows are dropped, counted

_queue: list[dict[str, Any]] = []
_flushers: dict[asyncio.AbstractEventLoop, asyncio.Task] = {}
# One write at a time per loop: the shutdown flush waits for a write already under way.
_locks: dict[asyncio.AbstractEventLoop, asyncio.Lock] = {}


def _at(ms: int | None) -> datetime.datetime:
    if not ms:
        return datetime.datetime.now(datetime.UTC)
    return datetime.datetime.fromtimestamp(ms / 1000, datetime.UTC)


def row_of_session(session: Session) -> dict[str, Any]:
    record = session.client_record()
    return {
        **_row_of_record(record, session.hub.node_id if session.hub else ""),
        "disconnected_at": _at(None),
        "close_code": session.close_code,
        "rooms_joined": session.rooms_joined,
    }


def _row_of_record(record: dict[str, Any], node: str) -> dict[str, Any]:
    errors = {str(code): int(n) for code, n in (record.get("errors") or {}).items()}
    return {
        "client_id": record["clientId"],
        "user_id": record.get("userId") or None,
        "username": record.get("username") or "",
        "node": record.get("node") or node,
        "remote_address": (record.get("remoteAddress") or "")[:64],
        "user_agent": (record.get("userAgent") or "")[:256],
        "connected_at": _at(record.get("connectedAt")),
        "messages_in": int(record.get("messagesIn") or 0),
        "messages_out": int(record.get("messagesOut") or 0),
        "errors": errors,
        "error_count": sum(errors.values()),
        "rooms_joined": len([r for r in record.get("rooms") or [] if room_type_of(r) != USER]),
    }


def enqueue(row: dict[str, Any]) -> None:
    if len(_queue) >= MAX_QUEUED:
        logger.warning("connection records queue full: dropping the record of %s", row["client_id"])
        return
    _queue.append(row)
    loop = asyncio.get_running_loop()
    flusher = _flushers.get(loop)
    if flusher is None or flusher.done():
        _flushers[loop] = loop.create_task(_flush_later())


def record_session(session: Session) -> None:
    """Queue the record of a connection that ended (from the consumer's cleanup)."""
    try:
        enqueue(row_of_session(session))
    except Exception:  # a record must never break a disconnect
        logger.exception("client %s: connection record failed", session.client_id)


async def record_lost(node: dict[str, Any], clients: list[dict[str, Any]]) -> None:
    """Registry sweep listener: the clients a dead node took with it."""
    ended = _at(node.get("lastHeartbeat"))
    for client in clients:
        enqueue({**_row_of_record(client, node["nodeId"]), "disconnected_at": ended, "close_code": None,
                 "lost": True})  # fmt: skip
    await flush()


async def _flush_later() -> None:
    await asyncio.sleep(FLUSH_DELAY)
    await flush()


async def flush() -> int:
    """Write every queued row now (after any write under way); how many were written."""
    async with _locks.setdefault(asyncio.get_running_loop(), asyncio.Lock()):
        rows = _queue[:]
        del _queue[: len(rows)]
        if not rows:
            return 0
        try:
            return await _write(rows)
        except Exception:
            logger.exception("writing %d connection records failed", len(rows))
            return 0


@database_sync_to_async
def _write(rows: list[dict[str, Any]]) -> int:
    user_ids = {row["user_id"] for row in rows if row["user_id"]}
    existing = set(get_user_model().objects.filter(pk__in=user_ids).values_list("pk", flat=True))
    records = [
        ConnectionRecord(**{**row, "user_id": row["user_id"] if row["user_id"] in existing else None})
        for row in rows
    ]
    ConnectionRecord.objects.bulk_create(records, batch_size=500)
    return len(records)


def connect() -> None:
    """Called from RealtimeConfig.ready: write the records of connections that end here
    and of the clients lost with a dead node."""
    on_session_end(record_session)
    on_clients_lost(record_lost)
