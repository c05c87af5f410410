"""The registry in Redis, shared by every node (data model below; prefix `<REDIS_PREFIX>:rt`).

    nodes                  zset  nodeId -> alive until (ms): its last heartbeat plus its
                                 own liveness window, so nodes with different settings agree
    node:<id>              hash  that node's stats as of its last heartbeat
    node:<id>:clients      set   clientIds on that node (the sweep's work list)
    node:<id>:samples      list  activity samples, one per heartbeat, the last minute's
    nodes:gone             zset  {nodeId, startedAt, lastHeartbeat, goneAt} json -> goneAt
                                 (nodes a sweep removed as dead; the newest few are kept)
    client:<cid>           hash  the client record (base.py), `node` among its fields
    user:<uid>:clients     set   the user's clientIds (per-user connection cap)
    room:<room>:members    hash  clientId -> {clientId, userId, username, joinedAt, node}
    room:<room>:user:<uid> set   the user's clientIds in the room (presence)
    room:<room>:present    set   userIds announced present (user_joined sent, user_left not yet)
    rooms                  set   rooms with at least one membership record

Entries of a dead node stay until a sweep removes them, but every count and read skips
them at once (a client is live when its node's heartbeat is within the window). The
count-and-add, join and leave steps are Lua scripts: atomic across nodes, so two nodes
never both announce a user's first join, or let an 11th connection in.
"""

from __future__ import annotations

import json
from typing import Any

from realtime.delivery import redisconn
from realtime.delivery.registry.base import (
    Left,
    Registry,
    activity_sample,
    liveness_window_ms,
    members_of,
    notify_clients_lost,
    now_ms,
    samples_kept,
)

GONE_KEPT = 20  # entries of nodes:gone
GONE_SHOWN_MS = 3600_000  # gone nodes are listed for an hour

# Shared Lua prelude: ALIVE(cid) -> true/false, or nil when the client record is gone.
_ALIVE = """
local function ALIVE(prefix, nodes, min, cid)
  local node = redis.call('HGET', prefix .. ':client:' .. cid, 'node')
  if not node then return nil end
  local score = redis.call('ZSCORE', nodes, node)
  return score ~= false and score ~= nil and tonumber(score) >= min
end
local function LIVE_IN(set, prefix, nodes, min, except)
  local live = 0
  for _, cid in ipairs(redis.call('SMEMBERS', set)) do
    if cid ~= except then
      local alive = ALIVE(prefix, nodes, min, cid)
      if alive == nil then redis.call('SREM', set, cid) elseif alive then live = live + 1 end
    end
  end
  return live
end
"""

# KEYS: user clients, nodes, client hash, node clients. ARGV: cid, max, min, prefix, fields...
_ADD_CLIENT = (
    _ALIVE
    + """
if LIVE_IN(KEYS[1], ARGV[4], KEYS[2], tonumber(ARGV[3]), ARGV[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('HSET', KEYS[3], unpack(ARGV, 5))
redis.call('SADD', KEYS[1], ARGV[1])
redis.call('SADD', KEYS[4], ARGV[1])
return 1
"""
)

# KEYS: room user set, room members, rooms, nodes, room present, client hash.
# ARGV: cid, member json, min, prefix, room, uid, rooms json.
_JOIN = (
    _ALIVE
    + """
LIVE_IN(KEYS[1], ARGV[4], KEYS[4], tonumber(ARGV[3]), ARGV[1])
redis.call('SADD', KEYS[1], ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('SADD', KEYS[3], ARGV[5])
if redis.call('EXISTS', KEYS[6]) == 1 then redis.call('HSET', KEYS[6], 'rooms', ARGV[7]) end
return redis.call('SADD', KEYS[5], ARGV[6])
"""
)

# Same KEYS. ARGV: cid, min, prefix, room, uid, rooms json ('' = leave the record alone).
_LEAVE = (
    _ALIVE
    + """
local removed = redis.call('SREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
if ARGV[6] ~= '' and redis.call('EXISTS', KEYS[6]) == 1 then redis.call('HSET', KEYS[6], 'rooms', ARGV[6]) end
local left = 0
if removed == 1 and LIVE_IN(KEYS[1], ARGV[3], KEYS[4], tonumber(ARGV[2]), '') == 0 then
  left = redis.call('SREM', KEYS[5], ARGV[5])
end
if redis.call('HLEN', KEYS[2]) == 0 then
  redis.call('SREM', KEYS[3], ARGV[4])
  redis.call('DEL', KEYS[5])
end
return left
"""
)

# KEYS: client hash. ARGV: field/value pairs. Never resurrects a removed client.
_UPDATE_IF_EXISTS = """
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('HSET', KEYS[1], unpack(ARGV)) end
return 0
"""

_JSON_FIELDS = {"rooms", "errors", "recentErrors"}
_INT_FIELDS = {"userId", "connectedAt", "messagesIn", "messagesOut", "lastActivity"}


def _flatten(record: dict[str, Any]) -> list[str]:
    out: list[str] = []
    for name, value in record.items():
        out += [name, json.dumps(value) if name in _JSON_FIELDS else str(value if value is not None else "")]
    return out


def _decode(raw: dict[str, str]) -> dict[str, Any]:
    record: dict[str, Any] = {}
    for name, value in raw.items():
        if name in _JSON_FIELDS:
            record[name] = json.loads(value)
        elif name in _INT_FIELDS:
            record[name] = int(value) if value else 0
        else:
            record[name] = value
    return record


K = redisconn.key


class RedisRegistry(Registry):
    def _room_keys(self, room_id: str, user_id: int, client_id: str) -> list[str]:
        return [
            K("room", room_id, "user", user_id), K("room", room_id, "members"), K("rooms"),
            K("nodes"), K("room", room_id, "present"), K("client", client_id),
        ]  # fmt: skip

    @staticmethod
    def _min() -> int:
        """Scores below this are dead nodes (a score is the node's alive-until time)."""
        return now_ms()

    @staticmethod
    def _alive_until() -> int:
        return now_ms() + liveness_window_ms()

    async def start_node(self) -> None:
        async with redisconn.client() as redis:
            await redis.zadd(K("nodes"), {self.node_id: self._alive_until()})
            await redis.hset(
                K("node", self.node_id),
                mapping={"nodeId": self.node_id, "startedAt": now_ms(), "lastHeartbeat": now_ms()},
            )

    async def heartbeat(self, stats: dict[str, Any], dirty_clients: list[dict[str, Any]]) -> bool:
        async with redisconn.client() as redis:
            lost = await redis.zadd(K("nodes"), {self.node_id: self._alive_until()}) == 1
            lost = lost or not await redis.exists(K("node", self.node_id))
            pipe = redis.pipeline(transaction=False)
            fields = {name: json.dumps(value) for name, value in stats.items()}
            pipe.hset(
                K("node", self.node_id), mapping={**fields, "nodeId": self.node_id, "lastHeartbeat": now_ms()}
            )
            samples = K("node", self.node_id, "samples")
            pipe.rpush(samples, json.dumps(activity_sample(stats)))
            pipe.ltrim(samples, -samples_kept(), -1)
            pipe.pexpire(samples, liveness_window_ms() + 120_000)
            for update in dirty_clients:
                pipe.eval(_UPDATE_IF_EXISTS, 1, K("client", update["clientId"]), *_flatten(update))
            await pipe.execute()
        return lost

    async def stop_node(self) -> None:
        async with redisconn.client() as redis:
            await redis.zrem(K("nodes"), self.node_id)
            await redis.delete(
                K("node", self.node_id),
                K("node", self.node_id, "clients"),
                K("node", self.node_id, "samples"),
            )

    async def add_client(self, client: dict[str, Any], max_per_user: int) -> bool:
        record = {**client, "node": self.node_id}
        keys = [K("user", client["userId"], "clients"), K("nodes"), K("client", client["clientId"]),
                K("node", self.node_id, "clients")]  # fmt: skip
        async with redisconn.client() as redis:
            added = await redis.eval(
                _ADD_CLIENT, 4, *keys, client["clientId"], max_per_user, self._min(), K(), *_flatten(record)
            )
        return added == 1

    async def _forget(self, redis: Any, client_id: str, node_id: str, rooms_json: str) -> list[Left]:
        raw = await redis.hgetall(K("client", client_id))
        if not raw:
            await redis.srem(K("node", node_id, "clients"), client_id)
            return []
        record = _decode(raw)
        user = {"id": record["userId"], "username": record.get("username", "")}
        left = []
        for room_id in record.get("rooms", []):
            keys = self._room_keys(room_id, user["id"], client_id)
            args = (client_id, self._min(), K(), room_id, user["id"], rooms_json)
            if await redis.eval(_LEAVE, 6, *keys, *args) == 1:
                left.append(Left(room_id, user))
        await redis.srem(K("user", user["id"], "clients"), client_id)
        await redis.srem(K("node", node_id, "clients"), client_id)
        await redis.delete(K("client", client_id))
        return left

    async def remove_client(self, client_id: str) -> list[Left]:
        async with redisconn.client() as redis:
            return await self._forget(redis, client_id, self.node_id, "")

    async def join(self, client_id: str, room_id: str, user: dict[str, Any], rooms: list[str]) -> bool:
        member = {"clientId": client_id, "userId": user["id"], "username": user["username"],
                  "joinedAt": now_ms(), "node": self.node_id}  # fmt: skip
        keys = self._room_keys(room_id, user["id"], client_id)
        args = (client_id, json.dumps(member), self._min(), K(), room_id, user["id"], json.dumps(rooms))
        async with redisconn.client() as redis:
            return await redis.eval(_JOIN, 6, *keys, *args) == 1

    async def leave(self, client_id: str, room_id: str, user: dict[str, Any], rooms: list[str]) -> bool:
        keys = self._room_keys(room_id, user["id"], client_id)
        args = (client_id, self._min(), K(), room_id, user["id"], json.dumps(rooms))
        async with redisconn.client() as redis:
            return await redis.eval(_LEAVE, 6, *keys, *args) == 1

    async def forget_previous_run(self) -> list[Left]:
        left: list[Left] = []
        async with redisconn.client() as redis:
            for client_id in await redis.smembers(K("node", self.node_id, "clients")):
                left += await self._forget(redis, client_id, self.node_id, "")
        return left

    async def sweep(self) -> list[Left]:
        left: list[Left] = []
        async with redisconn.client() as redis:
            dead = await redis.zrangebyscore(K("nodes"), "-inf", f"({self._min()}")
            for node_id in dead:
                if node_id == self.node_id:
                    continue  # we are alive: a late heartbeat re-registers us
                # One survivor sweeps a dead node; the lock outlives a slow sweep's retry.
                if not await redis.set(K("sweep", node_id), self.node_id, nx=True, px=30_000):
                    continue
                node = await self._node_info(redis, node_id)
                lost = []
                for client_id in await redis.smembers(K("node", node_id, "clients")):
                    raw = await redis.hgetall(K("client", client_id))
                    if raw:
                        lost.append(_decode(raw))
                    left += await self._forget(redis, client_id, node_id, "")
                await redis.zrem(K("nodes"), node_id)
                await redis.delete(
                    K("node", node_id), K("node", node_id, "clients"), K("node", node_id, "samples")
                )
                await self._mark_gone(redis, node)
                await notify_clients_lost(node, lost)
        return left

    async def _node_info(self, redis: Any, node_id: str) -> dict[str, Any]:
        node: dict[str, Any] = {"nodeId": node_id}
        for name, value in (await redis.hgetall(K("node", node_id))).items():
            try:
                node[name] = json.loads(value)
            except ValueError:
                node[name] = value
        return node

    async def _mark_gone(self, redis: Any, node: dict[str, Any]) -> None:
        gone_at = now_ms()
        entry = {"nodeId": node["nodeId"], "startedAt": node.get("startedAt"),
                 "lastHeartbeat": node.get("lastHeartbeat"), "goneAt": gone_at}  # fmt: skip
        await redis.zadd(K("nodes:gone"), {json.dumps(entry, sort_keys=True): gone_at})
        await redis.zremrangebyrank(K("nodes:gone"), 0, -GONE_KEPT - 1)

    async def gone_nodes(self) -> list[dict[str, Any]]:
        async with redisconn.client() as redis:
            raw = await redis.zrangebyscore(K("nodes:gone"), now_ms() - GONE_SHOWN_MS, "+inf")
        return [json.loads(entry) for entry in raw]

    async def activity(self) -> dict[str, list[dict[str, int]]]:
        async with redisconn.client() as redis:
            node_ids = await redis.zrange(K("nodes"), 0, -1)
            pipe = redis.pipeline(transaction=False)
            for node_id in node_ids:
                pipe.lrange(K("node", node_id, "samples"), 0, -1)
            lists = await pipe.execute()
        return {node_id: [json.loads(x) for x in raw] for node_id, raw in zip(node_ids, lists, strict=True)}

    async def _alive_nodes(self, redis: Any) -> set[str]:
        return set(await redis.zrangebyscore(K("nodes"), self._min(), "+inf"))

    async def members(self, room_id: str) -> list[dict[str, Any]]:
        async with redisconn.client() as redis:
            alive = await self._alive_nodes(redis)
            raw = await redis.hgetall(K("room", room_id, "members"))
        records = [json.loads(value) for value in raw.values()]
        return members_of([r for r in records if r["node"] in alive])

    async def _clients(self, redis: Any, client_ids: list[str]) -> list[dict[str, Any]]:
        alive = await self._alive_nodes(redis)
        pipe = redis.pipeline(transaction=False)
        for client_id in client_ids:
            pipe.hgetall(K("client", client_id))
        records = [_decode(raw) for raw in await pipe.execute() if raw]
        return [r for r in records if r.get("node") in alive]

    async def list_clients(self, user_id: int | None = None) -> list[dict[str, Any]]:
        async with redisconn.client() as redis:
            if user_id is not None:
                ids = list(await redis.smembers(K("user", user_id, "clients")))
            else:
                ids = []
                for node_id in await self._alive_nodes(redis):
                    ids += await redis.smembers(K("node", node_id, "clients"))
            return sorted(await self._clients(redis, ids), key=lambda c: c["connectedAt"])

    async def get_client(self, client_id: str) -> dict[str, Any] | None:
        async with redisconn.client() as redis:
            found = await self._clients(redis, [client_id])
        return found[0] if found else None

    async def list_rooms(self) -> list[dict[str, Any]]:
        async with redisconn.client() as redis:
            room_ids = sorted(await redis.smembers(K("rooms")))
        rooms = [await self.get_room(room_id) for room_id in room_ids]
        return [room for room in rooms if room]

    async def nodes(self) -> list[dict[str, Any]]:
        async with redisconn.client() as redis:
            scored = await redis.zrange(K("nodes"), 0, -1, withscores=True)
            pipe = redis.pipeline(transaction=False)
            for node_id, _score in scored:
                pipe.hgetall(K("node", node_id))
            stats = await pipe.execute()
        minimum, out = self._min(), []
        for (node_id, score), raw in zip(scored, stats, strict=True):
            node: dict[str, Any] = {"nodeId": node_id}
            for name, value in raw.items():
                try:
                    node[name] = json.loads(value)
                except ValueError:
                    node[name] = value
            out.append({**node, "aliveUntil": int(score), "alive": score >= minimum})
        return out
