"""History in Redis: per room a counter, an epoch and a capped stream (XADD MAXLEN).

A Lua script assigns the id and appends in one step, so two nodes broadcasting to one
room never reuse an id. When the epoch key is missing (Redis lost its data, or the room
was idle past HISTORY_META_TTL) a new epoch starts and ids restart at 1: clients resuming
with the old epoch get `recovered: false`.
"""

from __future__ import annotations

import time

from django.conf import settings

from realtime import audience as audience_codec
from realtime import redisconn
from realtime.history.base import Appended, History, Replay, decide, event_text, new_epoch

# KEYS: seq, stream, epoch. ARGV: head, tail, new epoch, maxlen, stream ttl ms, meta ttl ms,
# audience (realtime.audience.encode: '' for everyone in the room).
_APPEND = """
local epoch = redis.call('GET', KEYS[3])
if not epoch then
  epoch = ARGV[3]
  redis.call('SET', KEYS[3], epoch)
  redis.call('DEL', KEYS[1], KEYS[2])
end
local id = redis.call('INCR', KEYS[1])
-- The same text as history.base.event_text: head, id, the epoch, tail.
local text = ARGV[1] .. id .. ',"epoch":"' .. epoch .. '"' .. ARGV[2]
redis.call('XADD', KEYS[2], 'MAXLEN', ARGV[4], '*', 'id', id, 'text', text, 'aud', ARGV[7])
redis.call('PEXPIRE', KEYS[2], ARGV[5])
redis.call('PEXPIRE', KEYS[1], ARGV[6])
redis.call('PEXPIRE', KEYS[3], ARGV[6])
return {epoch, id}
"""

# KEYS: seq, stream, epoch. ARGV: new epoch, meta ttl ms, oldest stream id ('' = none).
_REPLAY = """
local epoch = redis.call('GET', KEYS[3])
if not epoch then
  epoch = ARGV[1]
  redis.call('SET', KEYS[3], epoch, 'PX', ARGV[2])
  redis.call('DEL', KEYS[1], KEYS[2])
end
local head = redis.call('GET', KEYS[1]) or '0'
local entries = {}
if ARGV[3] ~= '' then entries = redis.call('XRANGE', KEYS[2], ARGV[3], '+') end
return {epoch, head, entries}
"""

META_TTL_MS = 24 * 3600 * 1000


def _keys(room_id: str) -> list[str]:
    return [redisconn.key("hist", room_id, part) for part in ("seq", "stream", "epoch")]


class RedisHistory(History):
    async def append(self, room_id: str, head: str, tail: str, audience: list[int] | None = None) -> Appended:
        stream_ttl = int(max(settings.HISTORY_MAX_AGE, 1) * 1000)
        async with redisconn.client() as redis:
            epoch, event_id = await redis.eval(
                _APPEND, 3, *_keys(room_id), head, tail, new_epoch(),
                max(settings.HISTORY_MAX_EVENTS, 1), stream_ttl, META_TTL_MS, audience_codec.encode(audience),
            )  # fmt: skip
        return Appended(epoch, int(event_id), event_text(head, int(event_id), epoch, tail))

    async def replay(self, room_id: str, since: int | None, epoch: str | None) -> Replay:
        oldest = ""
        if since is not None:
            oldest = str(max(0, int(time.time() * 1000 - settings.HISTORY_MAX_AGE * 1000)))
        async with redisconn.client() as redis:
            current, head, entries = await redis.eval(
                _REPLAY, 3, *_keys(room_id), new_epoch(), META_TTL_MS, oldest
            )
        retained = []
        for _stream_id, fields in entries:
            values = dict(zip(fields[::2], fields[1::2], strict=True))
            retained.append((int(values["id"]), values["text"], audience_codec.decode(values.get("aud"))))
        return decide(epoch=current, head=int(head), since=since, client_epoch=epoch, retained=retained)

    async def last(self, room_id: str) -> tuple[int, int | None]:
        seq, stream, _epoch = _keys(room_id)
        async with redisconn.client() as redis:
            head = await redis.get(seq)
            newest = await redis.xrevrange(stream, count=1)
        last_ms = int(newest[0][0].split("-")[0]) if newest else None
        return int(head or 0), last_ms
