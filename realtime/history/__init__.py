"""Event ids and history per room, for resume (protocol.md section 4).

One interface, two backends: `MemoryHistory` (one process: `make run`, the first CI
pass) and `RedisHistory` (REDIS_URL: every node appends to and replays from the same
capped stream per room). `get_history()` picks the one the settings ask for.

An event's text is assembled around its id (`head + str(eventId) + tail`) so that the id
assignment and the append are one atomic step in Redis, and the JSON is built once.
"""

from __future__ import annotations

import functools

from django.conf import settings

from realtime.history.base import History, Replay

__all__ = ["History", "Replay", "get_history"]


@functools.cache
def get_history() -> History:
    if settings.REDIS_URL:
        from realtime.history.redis import RedisHistory

        return RedisHistory()
    from realtime.history.memory import MemoryHistory

    return MemoryHistory()
