"""Redis through Sentinel (issue 16): the pieces settings and realtime.delivery.redisconn share.

`REDIS_SENTINELS=host:port,host:port` names the Sentinels and `REDIS_SENTINEL_MASTER`
the monitored primary. Every Redis user then asks a Sentinel where the primary is on each
new connection: after a failover, the connections to the dead primary fail, the retry
policy reconnects, and the new connection goes to the promoted replica. No node restarts.

- the channel layer: channels-redis's own Sentinel host form (`channel_layer_host`);
- the registry and the hot window: `async_pool` (realtime.delivery.redisconn);
- the REST throttle cache: `SentinelRedisCache`, Django's RedisCache whose pool is a
  redis-py SentinelConnectionPool (Django's backend only takes URLs).
"""

from __future__ import annotations

from typing import Any

import redis
import redis.asyncio as aioredis
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.asyncio.sentinel import Sentinel as AsyncSentinel
from redis.asyncio.sentinel import SentinelConnectionPool as AsyncSentinelConnectionPool
from redis.sentinel import Sentinel, SentinelConnectionPool

# Sentinel queries are tiny: a Sentinel that does not answer within this is skipped.
SENTINEL_SOCKET_TIMEOUT = 1.0


def parse_sentinels(items: list[str]) -> list[tuple[str, int]]:
    """["h1:26379", "h2"] -> [("h1", 26379), ("h2", 26379)]."""
    out = []
    for item in items:
        host, _, port = item.strip().rpartition(":") if ":" in item else (item.strip(), "", "26379")
        if not host or not port.isdigit():
            raise ValueError(f"REDIS_SENTINELS entries are host:port, got {item!r}")
        out.append((host, int(port)))
    return out


def _sentinel_kwargs() -> dict[str, Any]:
    return {"socket_timeout": SENTINEL_SOCKET_TIMEOUT, "socket_connect_timeout": SENTINEL_SOCKET_TIMEOUT}


def channel_layer_host(sentinels: list[tuple[str, int]], master: str, **options: Any) -> dict[str, Any]:
    """One `hosts` entry of channels-redis in its Sentinel form (channels_redis.utils.create_pool)."""
    return {"sentinels": sentinels, "master_name": master, "sentinel_kwargs": _sentinel_kwargs(), **options}


class _BlockingSentinelPool(AsyncSentinelConnectionPool, aioredis.BlockingConnectionPool):
    """The Sentinel pool with BlockingConnectionPool's waiting past max_connections (MRO:
    SentinelConnectionPool.__init__ hands its kwargs on to BlockingConnectionPool's)."""


def async_pool(sentinels: list[tuple[str, int]], master: str, **options: Any) -> aioredis.ConnectionPool:
    """A blocking asyncio pool whose connections always go to the current primary."""
    sentinel = AsyncSentinel(sentinels, sentinel_kwargs=_sentinel_kwargs())
    return _BlockingSentinelPool(master, sentinel, **options)


class SentinelRedisCacheClient(RedisCacheClient):
    """LOCATION is the master name; OPTIONS["sentinels"] the (host, port) list."""

    def __init__(
        self, servers: list[str], sentinels: list[tuple[str, int]] | list[str], **options: Any
    ) -> None:
        super().__init__(servers, **options)
        pairs = [tuple(s) if not isinstance(s, str) else parse_sentinels([s])[0] for s in sentinels]
        self._sentinel = Sentinel(pairs, sentinel_kwargs=_sentinel_kwargs())

    def _get_connection_pool(self, write: bool) -> redis.ConnectionPool:
        if 0 not in self._pools:
            self._pools[0] = SentinelConnectionPool(self._servers[0], self._sentinel, **self._pool_options)
        return self._pools[0]


class SentinelRedisCache(RedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = SentinelRedisCacheClient
