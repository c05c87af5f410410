"""The registry in this process's memory: the whole "cluster" is this one node."""

from __future__ import annotations

import copy
from collections import deque
from typing import Any

from realtime.registry.base import Left, Registry, activity_sample, members_of, now_ms, samples_kept


class MemoryRegistry(Registry):
    def __init__(self, node_id: str) -> None:
        super().__init__(node_id)
        self.clients: dict[str, dict[str, Any]] = {}
        self.rooms: dict[str, dict[str, dict[str, Any]]] = {}  # room -> clientId -> record
        self.node: dict[str, Any] = {}
        self.samples: deque[dict[str, int]] = deque(maxlen=samples_kept())

    async def start_node(self) -> None:
        self.node = {"nodeId": self.node_id, "startedAt": now_ms(), "lastHeartbeat": now_ms()}

    async def heartbeat(self, stats: dict[str, Any], dirty_clients: list[dict[str, Any]]) -> bool:
        self.node.update(stats, lastHeartbeat=now_ms())
        self.samples.append(activity_sample(stats))
        for update in dirty_clients:
            if update["clientId"] in self.clients:
                self.clients[update["clientId"]].update(update)
        return False

    async def stop_node(self) -> None:
        self.clients.clear()
        self.rooms.clear()

    async def add_client(self, client: dict[str, Any], max_per_user: int) -> bool:
        same_user = sum(1 for c in self.clients.values() if c["userId"] == client["userId"])
        if same_user >= max_per_user:
            return False
        self.clients[client["clientId"]] = {**client, "node": self.node_id}
        return True

    async def remove_client(self, client_id: str) -> list[Left]:
        client = self.clients.pop(client_id, None)
        if client is None:
            return []
        user = {"id": client["userId"], "username": client["username"]}
        left = []
        for room_id in list(self.rooms):
            if client_id in self.rooms[room_id] and await self.leave(client_id, room_id, user, []):
                left.append(Left(room_id, user))
        return left

    def _user_present(self, room_id: str, user_id: int) -> bool:
        return any(r["userId"] == user_id for r in self.rooms.get(room_id, {}).values())

    async def join(self, client_id: str, room_id: str, user: dict[str, Any], rooms: list[str]) -> bool:
        first = not self._user_present(room_id, user["id"])
        self.rooms.setdefault(room_id, {})[client_id] = {
            "clientId": client_id, "userId": user["id"], "username": user["username"],
            "joinedAt": now_ms(), "node": self.node_id,
        }  # fmt: skip
        if client_id in self.clients:
            self.clients[client_id]["rooms"] = list(rooms)
        return first

    async def leave(self, client_id: str, room_id: str, user: dict[str, Any], rooms: list[str]) -> bool:
        members = self.rooms.get(room_id, {})
        if members.pop(client_id, None) is None:
            return False
        if not members:
            self.rooms.pop(room_id, None)
        if client_id in self.clients:
            self.clients[client_id]["rooms"] = list(rooms)
        return not self._user_present(room_id, user["id"])

    async def sweep(self) -> list[Left]:
        return []  # one process: nothing outlives its node

    async def members(self, room_id: str) -> list[dict[str, Any]]:
        return members_of(list(self.rooms.get(room_id, {}).values()))

    async def list_clients(self, user_id: int | None = None) -> list[dict[str, Any]]:
        return [copy.deepcopy(c) for c in self.clients.values() if user_id is None or c["userId"] == user_id]

    async def get_client(self, client_id: str) -> dict[str, Any] | None:
        client = self.clients.get(client_id)
        return copy.deepcopy(client) if client else None

    async def list_rooms(self) -> list[dict[str, Any]]:
        rooms = [await self.get_room(room_id) for room_id in list(self.rooms)]
        return [room for room in rooms if room]

    async def nodes(self) -> list[dict[str, Any]]:
        return [{**copy.deepcopy(self.node), "alive": True}] if self.node else []

    async def activity(self) -> dict[str, list[dict[str, int]]]:
        return {self.node_id: list(self.samples)} if self.node else {}
