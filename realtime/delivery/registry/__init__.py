"""The cluster-wide registry: clients, room memberships and presence, per-user
connection counts, per-node liveness and stats (issue 5; read by the admin API, issue 7).

One interface (`Registry`), two backends: `MemoryRegistry` (one process) and
`RedisRegistry` (REDIS_URL). Every node's hub owns the registry of its process
(`get_registry()`); the admin API reads through the same object.

Liveness is per node: a node's heartbeat (REGISTRY_HEARTBEAT) scores it in a sorted set;
a node silent for longer than REGISTRY_TTL - REGISTRY_HEARTBEAT is dead, its clients no
longer count anywhere, and the next sweep of a surviving node removes them and announces
`user_left` where it is due, so a kill -9 leaves no ghosts after REGISTRY_TTL.

Client counters (messages in/out, errors, last activity) are written at each heartbeat,
so admin reads can lag them by up to REGISTRY_HEARTBEAT seconds.
"""

from __future__ import annotations

import functools

from django.conf import settings

from realtime.delivery.registry.base import Left, Registry
from realtime.delivery.registry.memory import MemoryRegistry
from realtime.delivery.registry.redis import RedisRegistry

__all__ = ["Left", "Registry", "get_registry"]


@functools.cache
def get_registry() -> Registry:
    if settings.REDIS_URL:
        return RedisRegistry(settings.NODE_ID)
    return MemoryRegistry(settings.NODE_ID)
