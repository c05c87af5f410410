"""The registry interface. Client records are camelCase dicts, ready for the admin API:

{clientId, userId, username, node, connectedAt (ms), remoteAddress, userAgent,
 rooms: [roomId], messagesIn, messagesOut, errors: {code: n},
 recentErrors: [{code, at}], lastActivity (ms)}
"""

from __future__ import annotations

import abc
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings


@dataclass(frozen=True)
class Left:
    """A user whose last connection left `room_id` (announce `user_left`)."""

    room_id: str
    user: dict[str, Any]  # {id, username}


logger = logging.getLogger(__name__)


def now_ms() -> int:
    return int(time.time() * 1000)


# --- activity samples (admin stats: per-second rates over the last minute) ---------------
# Each heartbeat appends one sample of the node's cumulative counters; a rate is the
# difference between the newest sample and the oldest one still inside the window.
RATE_WINDOW_MS = 60_000


def activity_sample(stats: dict[str, Any]) -> dict[str, int]:
    errors = stats.get("errors") or {}
    return {
        "at": now_ms(),
        "messagesIn": int(stats.get("messagesIn", 0)),
        "messagesOut": int(stats.get("messagesOut", 0)),
        "errors": int(sum(errors.values())),
    }


def samples_kept() -> int:
    """Enough heartbeats to span the rate window, plus slack for a late one."""
    return min(1000, int(RATE_WINDOW_MS / 1000 / max(0.05, settings.REGISTRY_HEARTBEAT)) + 3)


# --- clients lost with their node -------------------------------------------------------
# Called by the sweep with (the dead node's last stats, its client records) before they
# are forgotten; realtime.cluster.records registers one to write their connection records.
LostListener = Callable[[dict[str, Any], list[dict[str, Any]]], Awaitable[None]]
_lost_listeners: list[LostListener] = []


def on_clients_lost(listener: LostListener) -> None:
    if listener not in _lost_listeners:
        _lost_listeners.append(listener)


async def notify_clients_lost(node: dict[str, Any], clients: list[dict[str, Any]]) -> None:
    for listener in list(_lost_listeners):
        try:
            await listener(node, clients)
        except Exception:
            logger.exception("a lost-clients listener failed for node %s", node.get("nodeId"))


def liveness_window_ms() -> int:
    """A node whose last heartbeat is older than this is dead (see package docstring)."""
    ttl, beat = settings.REGISTRY_TTL, settings.REGISTRY_HEARTBEAT
    return int(max(ttl - beat, 2 * beat) * 1000)


def members_of(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Room membership records (one per client) -> one entry per user, clients grouped."""
    users: dict[int, dict[str, Any]] = {}
    for record in sorted(records, key=lambda r: r["joinedAt"]):
        user = users.setdefault(
            record["userId"],
            {"userId": record["userId"], "username": record["username"], "clientIds": [], "joinedAt": None},
        )
        user["clientIds"].append(record["clientId"])
        user["joinedAt"] = user["joinedAt"] or record["joinedAt"]
    return list(users.values())


class Registry(abc.ABC):
    def __init__(self, node_id: str) -> None:
        self.node_id = node_id

    # --- this node ---------------------------------------------------------------------
    @abc.abstractmethod
    async def start_node(self) -> None: ...

    async def forget_previous_run(self) -> list[Left]:
        """At process start: forget the clients a previous process with this node id left
        behind (killed, then restarted under the same id before any sweep): they would
        count against their users' connection limits and stay present forever. What the
        callers must announce as left. Nothing to do for a per-process registry."""
        return []

    @abc.abstractmethod
    async def heartbeat(self, stats: dict[str, Any], dirty_clients: list[dict[str, Any]]) -> bool:
        """Refresh this node's liveness and stats and write changed client counters.
        True when the registry had lost this node (Redis restarted, or the node stalled
        and was swept): the caller must re-register its clients (`restore_client`)."""

    @abc.abstractmethod
    async def stop_node(self) -> None: ...

    # --- clients -------------------------------------------------------------------------
    @abc.abstractmethod
    async def add_client(self, client: dict[str, Any], max_per_user: int) -> bool:
        """Register an authenticated client unless its user already has `max_per_user`
        live connections cluster-wide (check and add are atomic). False: refused."""

    @abc.abstractmethod
    async def remove_client(self, client_id: str) -> list[Left]:
        """Forget a client and its memberships; the users who thereby left rooms."""

    @abc.abstractmethod
    async def join(self, client_id: str, room_id: str, user: dict[str, Any], rooms: list[str]) -> bool:
        """Add a membership; True when it is the user's first live connection in the room
        (announce `user_joined`). `rooms` is the client's room list after the join."""

    @abc.abstractmethod
    async def leave(self, client_id: str, room_id: str, user: dict[str, Any], rooms: list[str]) -> bool:
        """Remove a membership; True when the user has no live connection left there."""

    async def restore_client(self, client: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
        """Re-register a live client after the registry lost it; the (room, user) pairs to
        announce as `user_joined` again."""
        await self.add_client(client, max_per_user=1 << 30)
        user = {"id": client["userId"], "username": client["username"]}
        joined = []
        for room_id in client["rooms"]:
            if await self.join(client["clientId"], room_id, user, client["rooms"]):
                joined.append((room_id, user))
        return joined

    @abc.abstractmethod
    async def sweep(self) -> list[Left]:
        """Remove the clients of dead nodes; the users who thereby left rooms."""

    # --- reads (admin API, issue 7) --------------------------------------------------------
    @abc.abstractmethod
    async def members(self, room_id: str) -> list[dict[str, Any]]:
        """Live members of a room, one per user: {userId, username, clientIds, joinedAt}."""

    async def member_users(self, room_id: str) -> list[dict[str, Any]]:
        """The `members` of `room_joined`: {userId, username} per live member, in the
        order they joined (each join of a 1,000-member room asks)."""
        return [{"userId": m["userId"], "username": m["username"]} for m in await self.members(room_id)]

    @abc.abstractmethod
    async def list_clients(self, user_id: int | None = None) -> list[dict[str, Any]]: ...

    @abc.abstractmethod
    async def get_client(self, client_id: str) -> dict[str, Any] | None: ...

    @abc.abstractmethod
    async def list_rooms(self) -> list[dict[str, Any]]:
        """Every room with a live member: {roomId, members, memberCount, clientCount}."""

    async def get_room(self, room_id: str) -> dict[str, Any] | None:
        members = await self.members(room_id)
        if not members:
            return None
        clients = sum(len(m["clientIds"]) for m in members)
        return {"roomId": room_id, "members": members, "memberCount": len(members), "clientCount": clients}

    @abc.abstractmethod
    async def nodes(self) -> list[dict[str, Any]]:
        """Per-node stats as of each node's last heartbeat, with `alive`."""

    @abc.abstractmethod
    async def activity(self) -> dict[str, list[dict[str, int]]]:
        """Per node still registered: its activity samples ({at, messagesIn, messagesOut,
        errors}, cumulative), oldest first, covering at least RATE_WINDOW_MS."""

    async def gone_nodes(self) -> list[dict[str, Any]]:
        """Nodes a sweep removed as dead (recent ones): {nodeId, startedAt, lastHeartbeat,
        goneAt}. A single process has none."""
        return []

    async def node_of(self, client_id: str) -> str | None:
        client = await self.get_client(client_id)
        return client["node"] if client else None
