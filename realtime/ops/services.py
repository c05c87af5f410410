"""What staff can see and do with the live real-time layer, for the whole cluster: the one
home of the logic behind the admin REST API (realtime.ops.api) and the Django admin
pages (realtime.ops.admin).

Everything is read from the registry (realtime.delivery.registry), so every node answers for every
node. Node counters reach the registry with each heartbeat (REGISTRY_HEARTBEAT); the node
answering a request overlays its own live counters, so its share is exact and the other
nodes' lag by at most one heartbeat. Rates come from the per-heartbeat activity samples
of the last minute (RATE_WINDOW_MS).

The functions here are async; sync callers (DRF views, admin views) use `run(...)`.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from events import log, rooms
from realtime import protocol
from realtime.cluster.control import akick_client
from realtime.delivery.broadcast import abroadcast, abroadcast_all
from realtime.delivery.hub import Hub
from realtime.delivery.registry import get_registry
from realtime.delivery.registry.base import RATE_WINDOW_MS, activity_sample, now_ms

KIND_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
DEFAULT_KIND = "announcement"
TOP_ROOMS = 10
# members-per-room distribution buckets: (label, lowest, highest or None)
BUCKETS = (("1", 1, 1), ("2", 2, 2), ("3-5", 3, 5), ("6-10", 6, 10), ("11-50", 11, 50), ("51+", 51, None))
PERSONAL = rooms.USER  # the personal room type: one per signed-in user, left out of room stats


def run(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Call one of the async functions here from sync code (views)."""
    return async_to_sync(fn)(*args, **kwargs)


# --- validation (the API serializers and the admin forms share it) ----------------------
def validate_message(value: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError("The message must not be empty.", code="blank")
    limit = settings.ADMIN_BROADCAST_MAX_LENGTH
    if len(value) > limit:
        raise ValidationError(f"At most {limit} characters.", code="max_length")
    return value


def validate_kind(value: str | None) -> str:
    if value in (None, ""):
        return DEFAULT_KIND
    if not isinstance(value, str) or not KIND_PATTERN.match(value):
        raise ValidationError("1 to 32 characters: lowercase letters, digits and _, starting with a letter.")
    return value


def validate_room_id(value: str) -> str:
    if not isinstance(value, str) or rooms.parse_room_id(value) is None:
        raise ValidationError("Unknown room id format (e.g. trip_12).", code="invalid_room")
    return value


# --- this node's live view -----------------------------------------------------------------
def _local_hub() -> Any:
    """This node's hub when called on its event loop (a request served by daphne)."""
    return Hub.current()


def _local_session(client_id: str) -> Any:
    hub = _local_hub()
    return hub.connections.get(client_id) if hub is not None else None


def _with_live_counters(client: dict[str, Any]) -> dict[str, Any]:
    session = _local_session(client["clientId"])
    if session is not None and session.user is not None:
        client.update(session.record_update(), rooms=list(session.rooms))
    return client


# --- stats -------------------------------------------------------------------------------
def _rate(samples: list[dict[str, int]], field: str, now: int) -> float:
    """Per second over the last minute: newest sample minus the oldest inside the window."""
    if len(samples) < 2:
        return 0.0
    last = samples[-1]
    base = next((s for s in samples if s["at"] >= now - RATE_WINDOW_MS), samples[-1])
    elapsed = (last["at"] - base["at"]) / 1000
    return (last[field] - base[field]) / elapsed if elapsed > 0 else 0.0


def _distribution(counts: list[int]) -> dict[str, int]:
    out = dict.fromkeys((label for label, _low, _high in BUCKETS), 0)
    for n in counts:
        for label, low, high in BUCKETS:
            if n >= low and (high is None or n <= high):
                out[label] += 1
                break
    return out


def _node_status(node: dict[str, Any]) -> str:
    return "alive" if node.get("alive") else "dead"


async def cluster_stats() -> dict[str, Any]:
    registry = get_registry()
    nodes = await registry.nodes()
    activity = await registry.activity()
    gone = await registry.gone_nodes()
    clients = await registry.list_clients()
    all_rooms = await registry.list_rooms()
    now = now_ms()

    hub = _local_hub()
    for node in nodes:
        if hub is not None and node["nodeId"] == hub.node_id:
            live = hub.node_stats()
            node.update(live)
            samples = activity.setdefault(node["nodeId"], [])
            samples.append({**activity_sample(live), "at": now})
        # Counting starts at the node's start: a zero sample there bounds a young node's rate.
        started = node.get("startedAt")
        samples = activity.setdefault(node["nodeId"], [])
        if isinstance(started, int) and (not samples or samples[0]["at"] > started):
            samples.insert(0, {"at": started, "messagesIn": 0, "messagesOut": 0, "errors": 0})

    alive = [n for n in nodes if n.get("alive")]
    breakdown = []
    for node in nodes:
        started = node.get("startedAt") if isinstance(node.get("startedAt"), int) else None
        breakdown.append({
            "nodeId": node["nodeId"],
            "status": _node_status(node),
            "alive": bool(node.get("alive")),
            "connections": int(node.get("connections", 0)),
            "authenticated": int(node.get("authenticated", 0)),
            "users": int(node.get("users", 0)),
            "rooms": int(node.get("rooms", 0)),
            "messagesIn": int(node.get("messagesIn", 0)),
            "messagesOut": int(node.get("messagesOut", 0)),
            "errors": dict(node.get("errors") or {}),
            "channelLayerDrops": int(node.get("layerDrops", 0)),
            "startedAt": started,
            "uptime": (now - started) // 1000 if started and node.get("alive") else None,
            "lastHeartbeat": node.get("lastHeartbeat"),
        })  # fmt: skip
    listed = {n["nodeId"] for n in nodes}
    for node in gone:
        if node["nodeId"] not in listed:
            breakdown.append({"nodeId": node["nodeId"], "status": "gone", "alive": False, "connections": 0,
                              "startedAt": node.get("startedAt"), "lastHeartbeat": node.get("lastHeartbeat"),
                              "goneAt": node.get("goneAt")})  # fmt: skip

    errors: Counter[str] = Counter()
    for node in alive:
        errors.update(node.get("errors") or {})
    by_type = Counter(rooms.room_type_of(r["roomId"]) for r in all_rooms)
    shared = [r for r in all_rooms if rooms.room_type_of(r["roomId"]) != PERSONAL]
    top = sorted(shared, key=lambda r: (-r["memberCount"], -r["clientCount"], r["roomId"]))[:TOP_ROOMS]
    samples = {n["nodeId"]: activity.get(n["nodeId"], []) for n in alive}
    authenticated = len(clients)
    active = max(sum(int(n.get("connections", 0)) for n in alive), authenticated)
    starts = [n["startedAt"] for n in alive if isinstance(n.get("startedAt"), int)]
    return {
        "connections": {
            "active": active,
            "authenticated": authenticated,
            "anonymous": active - authenticated,
        },
        "uniqueUsers": len({c["userId"] for c in clients}),
        "rooms": {
            "count": len(shared),
            "personal": by_type.get(PERSONAL, 0),
            "byType": dict(by_type),
            "top": [{k: r[k] for k in ("roomId", "memberCount", "clientCount")} for r in top],
            "membersPerRoom": _distribution([r["memberCount"] for r in shared]),
        },
        "messages": {
            "received": {
                "total": sum(int(n.get("messagesIn", 0)) for n in alive),
                "perSecond": round(sum(_rate(s, "messagesIn", now) for s in samples.values()), 3),
            },
            "sent": {
                "total": sum(int(n.get("messagesOut", 0)) for n in alive),
                "perSecond": round(sum(_rate(s, "messagesOut", now) for s in samples.values()), 3),
            },
        },
        "errors": {
            "total": sum(errors.values()),
            "byCode": dict(errors),
            "perMinute": round(sum(_rate(s, "errors", now) for s in samples.values()) * 60, 3),
        },
        "channelLayer": {
            "drops": sum(int(n.get("layerDrops", 0)) for n in alive),
            "broadcastFailures": sum(int(n.get("broadcastFailures", 0)) for n in alive),
        },
        "broadcasts": sum(int(n.get("broadcasts", 0)) for n in alive),
        "nodes": breakdown,
        "nodesAlive": len(alive),
        "uptime": (now - min(starts)) // 1000 if starts else 0,
        "generatedAt": now,
    }


# --- rooms -------------------------------------------------------------------------------
async def _room_activity(room: dict[str, Any]) -> dict[str, Any]:
    events, last_ms = await database_sync_to_async(log.last)(room["roomId"])
    joins = [m["joinedAt"] for m in room.get("members", []) if m.get("joinedAt")]
    return {
        **room,
        "roomType": rooms.room_type_of(room["roomId"]),
        "eventsSent": events,
        "lastEventAt": last_ms,
        "lastActivity": max([last_ms or 0, *joins]) or None,
    }


async def room_list(room_type: str | None = None) -> list[dict[str, Any]]:
    """Rooms with live members; personal rooms only when asked for (`room_type="user"`)."""
    found = []
    for room in await get_registry().list_rooms():
        kind = rooms.room_type_of(room["roomId"])
        if (room_type is None and kind != PERSONAL) or kind == room_type:
            found.append(await _room_activity(room))
    return sorted(found, key=lambda r: (-r["memberCount"], r["roomId"]))


async def room_detail(room_id: str) -> dict[str, Any] | None:
    room = await get_registry().get_room(room_id)
    return await _room_activity(room) if room else None


# --- clients ------------------------------------------------------------------------------
def _client_view(client: dict[str, Any], now: int) -> dict[str, Any]:
    client = _with_live_counters(client)
    return {
        **client,
        "user": {"id": client["userId"], "username": client.get("username", "")},
        "durationSeconds": max(0, (now - int(client.get("connectedAt") or now)) // 1000),
    }


async def client_list(user_id: int | None = None) -> list[dict[str, Any]]:
    now = now_ms()
    return [_client_view(c, now) for c in await get_registry().list_clients(user_id=user_id)]


async def client_detail(client_id: str) -> dict[str, Any] | None:
    client = await get_registry().get_client(client_id)
    return _client_view(client, now_ms()) if client else None


async def client_kick(client_id: str) -> str | None:
    """Close the client 4003 on whatever node holds it: that node's id, None if none."""
    node = await get_registry().node_of(client_id)
    if node is None or not await akick_client(client_id):
        return None
    return node


def resolve_user(value: str) -> int | None:
    """`?user=` is a user id or a username (sync: ORM). None: no such user."""
    value = value.strip()
    if value.isdigit():
        return int(value)
    found = get_user_model().objects.filter(username=value).values_list("pk", flat=True).first()
    return found


# --- broadcasts -----------------------------------------------------------------------------
def notification(message: str, kind: str) -> dict[str, Any]:
    return {"kind": kind, "message": message}


async def broadcast_everyone(message: str, kind: str) -> int | None:
    """`notification` to every signed-in client on every node. The recipients are counted
    from the registry as the message leaves (every live authenticated client is sent it);
    None if the channel layer refused it."""
    recipients = len(await get_registry().list_clients())
    if not await abroadcast_all(protocol.NOTIFICATION, notification(message, kind)):
        return None
    return recipients


async def broadcast_to_room(room_id: str, message: str, kind: str) -> int | None:
    """`notification` as a room event (with an eventId: replayed on resume) to the room's
    members on every node; the recipients are its live clients, counted from the registry
    as it leaves. None if it could not be sent."""
    room = await get_registry().get_room(room_id)
    recipients = room["clientCount"] if room else 0
    # A staff announcement's payload is {kind, message} (protocol.md section 8), not the
    # Notification resource the catalogue describes for `notification`: not checked.
    payload = notification(message, kind)
    if await abroadcast(room_id, protocol.NOTIFICATION, payload, checked=False) is None:
        return None
    return recipients
