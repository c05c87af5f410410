"""The hot window in Redis: per room a sorted set of the ids broadcast (ZADD NX tells the
first marker), trimmed to HISTORY_HOT_EVENTS and expiring after HISTORY_HOT_SECONDS."""

from __future__ import annotations

from django.conf import settings

from realtime import redisconn
from realtime.history.base import History

# KEYS: the room's set. ARGV: keep, ttl ms, ids... Returns 1/0 per id (newly marked).
_MARK = """
local fresh = {}
for i = 3, #ARGV do
  fresh[#fresh + 1] = redis.call('ZADD', KEYS[1], 'NX', ARGV[i], ARGV[i])
end
redis.call('ZREMRANGEBYRANK', KEYS[1], 0, -(tonumber(ARGV[1]) + 1))
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return fresh
"""


class RedisHistory(History):
    async def mark(self, room_id: str, event_ids: list[int]) -> list[bool]:
        if not event_ids:
            return []
        keep = max(settings.HISTORY_HOT_EVENTS, 1)
        ttl = int(max(settings.HISTORY_HOT_SECONDS, 1) * 1000)
        async with redisconn.client() as redis:
            fresh = await redis.eval(_MARK, 1, redisconn.key("sent", room_id), keep, ttl, *event_ids)
        return [bool(flag) for flag in fresh]
