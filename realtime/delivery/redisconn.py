"""Redis clients for the registry and the history (not the channel layer: it has its own).

redis.asyncio clients are bound to the event loop that created them. The node's hub runs
on daphne's loop for the life of the process and keeps one client; code that calls in
from elsewhere (`async_to_sync` in a management command or a test process makes a fresh
loop per call) gets a client for that call only, closed afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import redis.asyncio as aioredis
from django.conf import settings
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError

from trava.redisha import async_pool

_long_lived: dict[asyncio.AbstractEventLoop, aioredis.Redis] = {}


def key(*parts: object) -> str:
    """Every key starts with REDIS_PREFIX (the test suite has its own)."""
    return ":".join((settings.REDIS_PREFIX, "rt", *map(str, parts)))


def _make() -> aioredis.Redis:
    # Explicit timeouts: redis-py 8 defaults are wrong for long-lived clients
    # (channels-notes.md); nothing here blocks server-side, so 5 s is a real failure.
    # A blocking pool: past max_connections a call waits for a free connection instead
    # of raising MaxConnectionsError (a shutdown drain runs hundreds of calls at once).
    options = {
        "max_connections": 200,
        "timeout": 10,
        "socket_timeout": 5,
        "socket_connect_timeout": 5,
        "health_check_interval": 15,
        # After a Redis restart every pooled connection is dead: retry its first command
        # on a fresh connection instead of failing it (redis-py retries nothing by default).
        # Behind Sentinel the fresh connection goes to whichever server is primary now.
        "retry": Retry(ExponentialBackoff(cap=0.5, base=0.05), 2, (RedisConnectionError,)),
        "decode_responses": True,
    }
    if getattr(settings, "REDIS_SENTINELS", None):
        pool = async_pool(settings.REDIS_SENTINEL_HOSTS, settings.REDIS_SENTINEL_MASTER, **options)
    else:
        pool = aioredis.BlockingConnectionPool.from_url(settings.REDIS_URL, **options)
    return aioredis.Redis(connection_pool=pool)


def keep_for_this_loop() -> aioredis.Redis:
    """The long-lived client of the running loop (the hub calls this at start)."""
    loop = asyncio.get_running_loop()
    client = _long_lived.get(loop)
    if client is None:
        client = _long_lived[loop] = _make()
    return client


@contextlib.asynccontextmanager
async def client() -> AsyncIterator[aioredis.Redis]:
    loop = asyncio.get_running_loop()
    if loop in _long_lived:
        yield _long_lived[loop]
        return
    temporary = _make()
    try:
        yield temporary
    finally:
        await temporary.aclose()
